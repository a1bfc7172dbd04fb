/* Fuzz target: lib/ipcmq's readers of what the kernel shows about queues
 * (a POSIX queue's "QSIZE:... NOTIFY_PID:..." text, a /proc/sysvipc/msg
 * line, a /proc/sys number), its text escaper, and the mq NAME syntax of
 * lib/ipcname (sysv:id=ID, sysv:PATH:PROJ), all on the same bytes.  The
 * files are the kernel's, but a reader must survive any bytes. */
#include "lib/ipcmq.h"
#include "lib/ipcname.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	char *text = malloc(size + 1);
	struct ipcmq_fsinfo fi;
	struct ipcmq_sysv_row row;
	struct ipcname n;
	const char *why;
	long v;

	if (!text)
		return 0;
	if (!sink)
		sink = fopen("/dev/null", "w");
	memcpy(text, data, size);
	text[size] = 0;
	ipcmq_parse_fsinfo((const char *)data, size, &fi);
	ipcmq_parse_sysctl((const char *)data, size, &v);
	ipcmq_parse_sysv_row(text, &row);
	if (ipcname_parse(&n, text, IPCNAME_MQ, &why) == 0 && n.type == IPCNAME_SYSV_FILE &&
	    (n.proj < 1 || n.proj > 255 || !n.path[0]))
		abort(); /* the parser promised a usable ftok argument */
	if (sink)
		ipcmq_print_escaped(sink, (const char *)data, size);
	free(text);
	return 0;
}
