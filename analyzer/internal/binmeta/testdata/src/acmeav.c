/* A stand-in engine library for binmeta's fixtures. The exported names
 * follow the public kave* C API naming; the bodies are trivial and written
 * for this test. */
int kaveInitializeEx(const char *base, int flags) { return base != 0 ? flags : -1; }
int kaveScanFile(const char *path, int *verdict) { if (verdict) *verdict = 0; return path != 0 ? 0 : -1; }
int kaveUninitialize(void) { return 0; }
int acme_internal_counter = 7;
static int helper(int x) { return x + 1; }
#ifdef __ELF__
__attribute__((visibility("hidden")))
#endif
int acme_hidden(int x) { return helper(x); }
