package com.example.scan;

/** A stand-in application class of the jar fixture. */
public class Scanner {
	/** Inner class, to show nested class names. */
	public static class Result {
	}

	public static void main(String[] args) {
		System.out.println(new com.kavsdk.antivirus.AvObjectScanner());
	}
}
