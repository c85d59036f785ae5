// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module that WARNs on load. The harness self-test loads it to prove that a kernel splat
 * makes a test fail; it is never part of procperf.ko.
 */
#include <linux/module.h>

static int __init procperf_splat_init(void)
{
	WARN(1, "procperf_splat: deliberate warning for the harness self-test\n");
	return 0;
}

static void __exit procperf_splat_exit(void)
{
}

module_init(procperf_splat_init);
module_exit(procperf_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("procperf test harness self-test: WARNs on load");
