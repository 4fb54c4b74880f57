#include "cpix_curl.h"
