package com.kavsdk.antivirus;

public class AvObjectScanner {
}
