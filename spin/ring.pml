/*
 * ring.pml - a Spin model of one direction of the shared-memory ring
 * (src/ring.c, src/wait.c, src/ring.h): the writer's and the reader's
 * positions, the record header tagged with its position, the wait words
 * with their Dekker handshake (flag, barrier, look / publish, barrier, look
 * at the flag), the futex sleep and wake, the closed flags and the death of
 * either side at any step.  Run by mk/spin.mk (make ci-extra-spin).
 *
 * Memory is x86-TSO: every store goes through its CPU's FIFO store buffer,
 * drained to memory at any moment; a load sees its own CPU's newest
 * buffered store, else memory.  A fence waits for its own buffer to drain; a
 * locked exchange (the waker's take of the flag) too, and is atomic.
 *   LIGHT=0  both sides fence (atomic_thread_fence), no membarrier
 *   LIGHT=1  the waker's barrier is a compiler barrier only, and the
 *            sleeper's heavy barrier is its fence plus
 *            membarrier(GLOBAL_EXPEDITED): the peer's buffer drains
 *   MUTANT=1 the sleeper skips its heavy barrier (must fail: lost wake-up)
 *   MUTANT=2 LIGHT=1 without the membarrier (must fail too)
 *   MUTANT=3 a sleeper never looks at its peer (must fail: a death unseen)
 *   MUTANT=4 the reader, finding the writer gone, does not look at the
 *            ring again first (must fail: committed messages lost)
 *
 * Sleeping: futex_wait(word, val) compares and sleeps in one step; a sleep
 * ends by a futex_wake, or by the slice timeout (RING_SLICE_MS), which this
 * model allows only once the peer has exited: while the peer lives, a
 * wake-up that is lost leaves the sleeper asleep for ever, which Spin
 * reports as an invalid end state (or the liveness claim fails).
 *
 * Death: a Killer process may kill the writer or the reader (or nobody) at
 * any point; the victim's next step is its escape (unless).  Its buffered
 * stores still drain, and only then is it "exited" for the pidfd the peer
 * looks at (the kernel makes the exit visible after the dying CPU's stores).
 *
 * Checked:
 *  - every message the reader gets is the next one (position and payload):
 *    nothing lost, duplicated, reordered or corrupt, and the reader never
 *    finds the ring broken (-EPROTO) with an honest writer;
 *  - the reader ends with -EPIPE only after getting every message whose
 *    header the writer stored (all N when it closed normally);
 *  - no process sleeps for ever (invalid end states: no lost wake-up);
 *  - ltl live: both sides eventually end (done, EPIPE, or dead), under weak
 *    fairness: the survivor sees a death or a close.
 */

#ifndef CAP
#define CAP 2          /* records the ring holds */
#endif
#ifndef N
#define N 3            /* messages the writer sends: the ring fills and wraps */
#endif
#ifndef LIGHT
#define LIGHT 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#define W 0            /* the writer's process / CPU */
#define R 1            /* the reader's */

/* Shared memory, by address. */
#define A_HDR   0              /* A_HDR + slot: record header tag, position + 1; 0 none */
#define A_DATA  (CAP)          /* A_DATA + slot: the payload: the message number */
#define A_PROD  (2 * CAP)      /* dir.prod: bytes (here records) committed */
#define A_CONS  (2 * CAP + 1)  /* dir.cons: records released */
#define A_RDW   (2 * CAP + 2)  /* dir.rd_wait: the reader sleeps */
#define A_WRW   (2 * CAP + 3)  /* dir.wr_wait: the writer sleeps */
#define A_WCL   (2 * CAP + 4)  /* side[writer].closed */
#define A_RCL   (2 * CAP + 5)  /* side[reader].closed */
#define NADDR   (2 * CAP + 6)
#define PEER_CL(p) (A_WCL + 1 - (p))   /* the closed flag of p's peer */

#define SLEEP   1              /* WAIT_SLEEP */
#define OK      0
#define EPIPE   1
#define TIMEDOUT 2

byte mem[NADDR];

/* The store buffers: SB entries each, oldest first. */
#define SB 4
byte sb_a[2 * SB], sb_v[2 * SB], sb_n[2];

/* The futex: who sleeps on which word; a wake clears it. */
bool sleeping[2];
byte sleep_on[2];

bool die[2], exited[2];        /* killed; its exit is visible (pidfd) */
bool done[2];                  /* ended: finished, EPIPE, or dead */
byte committed;                /* headers the writer stored (ghost) */
byte got;                      /* messages the reader took (ghost) */
bool w_closed_ok;              /* the writer closed after all N (ghost) */

byte d_i;                      /* Drain's loop index (used inside an atomic) */

/* The sides' private state (globals so that the inlines can share them). */
byte w_prod, w_cons_seen, r_cons;

inline store(p, a, v)
{
	atomic {
		sb_n[p] < SB;
		sb_a[p * SB + sb_n[p]] = a;
		sb_v[p * SB + sb_n[p]] = v;
		sb_n[p]++
	}
}

inline load(p, a, v)
{
	atomic {
		v = mem[a];
		i = 0;
		do
		:: i < sb_n[p] -> if :: sb_a[p * SB + i] == a -> v = sb_v[p * SB + i] :: else fi; i++
		:: else -> break
		od;
		i = 0
	}
}

/* The memory system: drains each buffer, oldest store first. */
proctype Drain(byte p)
{
end:	do
	:: atomic {
		sb_n[p] > 0 ->
		mem[sb_a[p * SB]] = sb_v[p * SB];
		d_i = 0;
		do
		:: d_i + 1 < sb_n[p] ->
			sb_a[p * SB + d_i] = sb_a[p * SB + d_i + 1];
			sb_v[p * SB + d_i] = sb_v[p * SB + d_i + 1];
			d_i++
		:: else -> break
		od;
		sb_n[p]--;
		sb_a[p * SB + sb_n[p]] = 0;
		sb_v[p * SB + sb_n[p]] = 0;
		d_i = 0
	}
	od
}

inline fence(p)
{
	sb_n[p] == 0
}

/* ipck__ring_heavy_barrier: the flag before the re-check. */
inline heavy_barrier(p)
{
#if MUTANT != 1
	fence(p);
#if LIGHT && MUTANT != 2
	sb_n[1 - p] == 0       /* membarrier: the peer's CPU runs a full barrier */
#endif
#endif
	skip
}

inline futex_wake(p, a)
{
	atomic {
		if
		:: sleeping[1 - p] && sleep_on[1 - p] == a -> sleeping[1 - p] = false
		:: else
		fi
	}
}

/* ring_kick and ipck__ring_wake: publish, barrier, look at the flag; take it
 * with a locked exchange and wake when it says SLEEP. */
inline kick(p, a)
{
#if !LIGHT
	fence(p);
#endif
	load(p, a, v);
	if
	:: v != 0 ->
		atomic { sb_n[p] == 0 -> v = mem[a]; mem[a] = 0 };
		if
		:: v & SLEEP -> futex_wake(p, a)
		:: else
		fi
	:: else
	fi
}

/* futex_wait(word, val): compare and sleep in one step; e: OK or TIMEDOUT. */
inline futex_wait(p, a, val, e)
{
	atomic {
		load(p, a, v);
		if
		:: v != val -> e = OK
		:: else -> sleeping[p] = true; sleep_on[p] = a; e = 3
		fi
	};
	if
	:: e == 3 ->
		if
		:: atomic { !sleeping[p] -> e = OK }
		:: atomic { exited[1 - p] -> sleeping[p] = false; e = TIMEDOUT }   /* slice over */
		fi
	:: else
	fi
}

/* ipck__ring_peer_gone: the closed flag, or the pidfd says it exited. */
inline peer_gone(p, g)
{
	load(p, PEER_CL(p), v);
	g = v || exited[1 - p]
}

/* ipck__ring_look, thorough: 1 when the record at r_cons is there. */
inline look(rec)
{
	load(R, A_HDR + r_cons % CAP, v);
	if
	:: v == r_cons + 1 -> rec = true
	:: else ->
		load(R, A_PROD, pr);
		if
		:: pr <= r_cons -> rec = false   /* not yet (prod may lag by one) */
		:: else ->
			load(R, A_HDR + r_cons % CAP, v);
			assert(v == r_cons + 1);     /* else -EPROTO: a broken ring */
			rec = true
		fi
	fi
}

/* tx_room for one record: w_cons_seen follows the reader. */
inline room(ok)
{
	if
	:: w_prod + 1 - w_cons_seen <= CAP -> ok = true
	:: else ->
		load(W, A_CONS, c);
		assert(c >= w_cons_seen && c <= w_prod);   /* else -EPROTO */
		w_cons_seen = c;
		ok = w_prod + 1 - c <= CAP
	fi
}

/* tx_ready / rx_ready (thorough): what a sleeper waits for. */
inline ready(p, rdy)
{
	if
	:: p == W -> room(rdy)
	:: else -> look(rdy)
	fi;
	if
	:: !rdy -> load(p, PEER_CL(p), v); rdy = v
	:: else
	fi
}

/* ipck__ring_wait with no timeout: the spin (one look), then sleep_phase.
 * res: OK (ready) or EPIPE (the peer is gone). */
inline ring_wait(p, a, res)
{
	ready(p, rdy);
	if
	:: rdy -> res = OK
	:: else ->
		timed_out = true;
		do
		:: true ->
			load(p, a, v);
			if
			:: v != SLEEP -> store(p, a, SLEEP); heavy_barrier(p)
			:: else
			fi;
			ready(p, rdy);
			if :: rdy -> res = OK; break :: else fi;
			if
			:: timed_out && MUTANT != 3 ->
				peer_gone(p, g);
				if :: g -> res = EPIPE; break :: else fi
			:: else
			fi;
			futex_wait(p, a, SLEEP, e);
			ready(p, rdy);
			if :: rdy -> res = OK; break :: else fi;
			timed_out = e == TIMEDOUT
		od;
		store(p, a, 0)   /* disarm */
	fi
}

/* The locals the inlines use, in both sides. */
#define LOCALS byte k, v, c, i, e, res, pr, d; bool ok, rec, rdy, g, timed_out

proctype Writer()
{
	LOCALS;
	{
		do
		:: k == N -> break
		:: k < N ->
			load(W, A_RCL, v);           /* spsc_reserve: the reader closed? */
			if :: v -> goto gone :: else fi;
			room(ok);
			if
			:: !ok ->
				ring_wait(W, A_WRW, res);   /* tx_wait */
				load(W, A_RCL, v);
				if :: res == EPIPE || v -> goto gone :: else fi;
				room(ok);
				assert(ok)                  /* ready, and not by a close */
			:: else
			fi;
			/* ring_publish: payload, clear the next header, header, prod. */
			store(W, A_DATA + w_prod % CAP, k);
			if
			:: w_prod + 1 - w_cons_seen < CAP -> store(W, A_HDR + (w_prod + 1) % CAP, 0)
			:: else
			fi;
			atomic { store(W, A_HDR + w_prod % CAP, w_prod + 1); committed++ };
			w_prod++;
			store(W, A_PROD, w_prod);
			kick(W, A_RDW);
			k++
		od;
		/* ipck__ring_bye */
		store(W, A_WCL, 1);
		w_closed_ok = true;
		kick(W, A_RDW);
gone:		done[W] = true
	} unless { die[W] };
	fence(W);                /* a dead CPU's stores still land, then the exit shows */
	exited[W] = die[W];
	done[W] = true
}

proctype Reader()
{
	LOCALS;
	{
		do
		:: look(rec);
			if
			:: !rec ->
				load(R, A_WCL, v);   /* rx_await: gone already? */
				if
				:: !v ->
					ring_wait(R, A_RDW, res);
					if :: res == OK -> look(rec) :: else fi
				:: else
				fi;
#if MUTANT != 4
				if :: !rec -> look(rec) :: else fi   /* gone: the rest first */
#endif
				skip
			:: else
			fi;
			if
			:: rec ->
				load(R, A_DATA + r_cons % CAP, d);
				assert(d == r_cons);     /* the next one, whole */
				r_cons++;
				got++;
				store(R, A_CONS, r_cons);
				kick(R, A_WRW)
			:: else ->
				/* -EPIPE: everything stored before is read */
				assert(got == committed);
				assert(!w_closed_ok || got == N);
				break
			fi
		:: r_cons >= 1 -> break   /* the reader closes early (after one) */
		od;
		store(R, A_RCL, 1);      /* ipck__ring_bye */
		kick(R, A_WRW);
		done[R] = true
	} unless { die[R] };
	fence(R);
	exited[R] = die[R];
	done[R] = true
}

proctype Killer()
{
	if
	:: die[W] = true
	:: die[R] = true
	:: skip
	fi
}

init
{
	atomic {
		run Drain(W);
		run Drain(R);
		run Writer();
		run Reader();
		run Killer()
	}
}

ltl live { <> (done[W] && done[R]) }
