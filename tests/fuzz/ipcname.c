/* Fuzz target: lib/ipcname's NAME parser (both families) and, on the same
 * bytes, lib/hexdump and lib/sha1.  Names come from the command line, but
 * no input may crash. */
#include "lib/hexdump.h"
#include "lib/ipcname.h"
#include "lib/sha1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ipcname n, lock;
	const char *why;
	char line[HEXDUMP_LINE_MAX], hex[41];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (int f = IPCNAME_SHM; f <= IPCNAME_MQ; f++)
		if (ipcname_parse(&n, text, (enum ipcname_family)f, &why) == 0 &&
		    n.type == IPCNAME_QT)
			ipcname_qt_lock(&n, &lock);
	for (size_t off = 0; off < size; off += 16)
		hexdump_line(line, off, data + off, size - off < 16 ? size - off : 16);
	sha1_hex(data, size, hex);
	free(text);
	return 0;
}
