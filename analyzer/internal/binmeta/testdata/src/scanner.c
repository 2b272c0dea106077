/* A stand-in appliance daemon that calls the engine library through its
 * kave* entry points. */
#include <stdio.h>
int kaveInitializeEx(const char *base, int flags);
int kaveScanFile(const char *path, int *verdict);
int kaveUninitialize(void);
int main(int argc, char **argv) {
	int verdict = 0;
	if (kaveInitializeEx("/opt/acme/bases", 1) < 0) return 2;
	if (argc > 1 && kaveScanFile(argv[1], &verdict) == 0) printf("%s: %d\n", argv[1], verdict);
	return kaveUninitialize();
}
