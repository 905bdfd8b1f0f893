/* Entry point only: the sample binaries exist to carry version resources. */
int start(void) { return 0; }
