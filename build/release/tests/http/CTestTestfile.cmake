# CMake generated Testfile for 
# Source directory: /work/main/tests/http
# Build directory: /work/main/build/release/tests/http
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
