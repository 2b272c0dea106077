#!/bin/bash
# make.sh rebuilds the UBI fixtures here; they share their source tree with
# the UBIFS fixtures, so ../../ubifs/testdata/make.sh builds both.
exec "$(dirname "$0")/../../ubifs/testdata/make.sh"
