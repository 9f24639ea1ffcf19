/* SPDX-License-Identifier: MIT */
/* One version string for the daemon, the CLI and the control protocol. */
#ifndef XGOSSIP_UTIL_VERSION_H
#define XGOSSIP_UTIL_VERSION_H

#define XGOSSIP_VERSION "0.1.0"

#endif /* XGOSSIP_UTIL_VERSION_H */
