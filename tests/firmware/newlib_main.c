/* A newlib program for the semihosting tests: C stdio and exit() through newlib-nano's
 * librdimon, which turns them into ARM semihosting calls (BKPT 0xAB), as a user's program
 * built with --specs=rdimon.specs does. It runs once from reset and ends with exit(3). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void initialise_monitor_handles(void);

static const char file_name[] = "newlib_test.txt";

/* Each step prints its result; the test compares the lines. */
int main(void) {
    initialise_monitor_handles();
    printf("newlib: printf %d %s\n", 42, "ok");
    fprintf(stderr, "newlib: stderr ok\n");

    FILE *file = fopen(file_name, "w");
    if (file == NULL) {
        printf("newlib: fopen for writing failed\n");
        exit(10);
    }
    fprintf(file, "written by newlib %d\n", 1234);
    fclose(file);

    file = fopen(file_name, "r");
    char line[64] = "";
    if (file == NULL || fgets(line, sizeof line, file) == NULL) {
        printf("newlib: reading back failed\n");
        exit(11);
    }
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fclose(file);
    printf("newlib: read back \"%.*s\", %ld bytes\n", (int)strcspn(line, "\n"), line, length);

    /* (newlib's rename() is link() and unlink(), which librdimon does not have, so
     * SYS_RENAME is not reached from C; remove() is SYS_REMOVE.) */
    int removed = remove(file_name);
    int removed_again = remove(file_name);
    printf("newlib: remove %d, again %d, reopen after remove %s\n", removed, removed_again,
           fopen(file_name, "r") == NULL ? "fails" : "works");

    printf("newlib: time %s, clock %s\n", time(NULL) > 1600000000 ? "ok" : "wrong",
           clock() != (clock_t)-1 ? "ok" : "wrong");

    /* A line from the debugger's console (SYS_READ of handle 0). */
    if (fgets(line, sizeof line, stdin) == NULL) {
        printf("newlib: stdin at its end\n");
    } else {
        printf("newlib: stdin \"%.*s\"\n", (int)strcspn(line, "\n"), line);
    }
    exit(3);
}
