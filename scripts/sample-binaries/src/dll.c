/* Entry point only: the sample binaries exist to carry version resources. */
int __stdcall DllMain(void *instance, unsigned long reason, void *reserved) {
    (void)instance; (void)reason; (void)reserved;
    return 1;
}
