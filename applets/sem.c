/* sem applets: not written yet. */
#include "applets.h"

const struct applet sem_applets[] = {
	{0},
};
