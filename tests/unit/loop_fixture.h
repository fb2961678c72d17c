/*
 * loop_fixture: what unit tests that drive a util/evloop.h loop share.
 * Context: single-threaded tests; header-only (static functions, T_UNUSED).
 */
#ifndef AGENTCAGE_TESTS_LOOP_FIXTURE_H
#define AGENTCAGE_TESTS_LOOP_FIXTURE_H

#include "t.h"
#include "util/evloop.h"

/* A timer callback that stops the loop: evloop_run() returns after that iteration. */
T_UNUSED static long
loopfx_stop_cb(struct evloop *loop, long long id, void *data)
{
	(void)id;
	(void)data;
	evloop_stop(loop);
	return EV_TIMER_STOP;
}

#endif
