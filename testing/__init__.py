"""Helpers that exercise alae_hf the way the test-suite, the benchmarks and the README's
screenshots need (`testing.app`: a random-weight stand-in model, input images, a launched app in
Debian's Chromium). Not part of the installed package: run from a checkout."""
