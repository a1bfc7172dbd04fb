/* The applet tables, one per family, each ended by an entry with a NULL name.
 * main.c dispatches over them; every other file includes only its own. */
#ifndef IPCBOX_APPLETS_H
#define IPCBOX_APPLETS_H

#include "../lib/cli.h"

extern const struct applet tcp_applets[];
extern const struct applet unix_applets[];
extern const struct applet shm_applets[];
extern const struct applet sem_applets[];
extern const struct applet bus_applets[];
extern const struct applet channel_applets[];
extern const struct applet mq_applets[];

#endif
