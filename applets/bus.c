/* bus applets: not written yet. */
#include "applets.h"

const struct applet bus_applets[] = {
	{0},
};
