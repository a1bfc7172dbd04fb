/* tcp applets: not written yet. */
#include "applets.h"

const struct applet tcp_applets[] = {
	{0},
};
