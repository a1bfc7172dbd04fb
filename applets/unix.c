/* unix applets: not written yet. */
#include "applets.h"

const struct applet unix_applets[] = {
	{0},
};
