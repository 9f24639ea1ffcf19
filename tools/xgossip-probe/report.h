/* SPDX-License-Identifier: MIT */
/* Printing a probe run: a short human summary or one JSON object. */
#ifndef XGOSSIP_PROBE_REPORT_H
#define XGOSSIP_PROBE_REPORT_H

#include <stdio.h>

#include "run.h"

void report_text(FILE *out, const struct xg_probe_args *a,
		 const struct probe_result *r);
/* 0 or -ENOMEM. */
int  report_json(FILE *out, const struct xg_probe_args *a,
		 const struct probe_result *r);

#endif /* XGOSSIP_PROBE_REPORT_H */
