/* shm applets: not written yet. */
#include "applets.h"

const struct applet shm_applets[] = {
	{0},
};
