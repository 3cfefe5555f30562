//! Stress tests of the STM core (`lockstep_optimized::stm`) on real OS threads: they sample
//! schedules the loom models (`model-checks/`) cannot reach (more threads, words and
//! transactions, real hardware reordering) and check each property on observed values:
//! serializability of every committed history against its commit serials, opacity of every
//! snapshot (also in transactions that later abort), at most one inevitable transaction,
//! safe publication of private objects, and the safepoint handshake.

use lockstep_optimized::stm::sync::{AtomicU64, AtomicUsize, Ordering};
use lockstep_optimized::stm::{
    atomically, Abort, CommitInfo, Contention, Policy, Safepoints, Stm, Transaction, TxThread,
};
use std::thread;

/// A small deterministic generator per thread (xorshift64*), so failures can be rerun.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n
    }
}

/// Work inside a transaction between its reads and its commit: widens the windows in which
/// another thread commits, so that protocol bugs show up in a short run.
fn think(n: u64) {
    for _ in 0..n {
        std::hint::spin_loop();
    }
}

fn words(n: usize, v: u64) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(v)).collect()
}

/// Pins a closure's argument to one transaction type (a closure annotated with
/// `&mut Transaction<'_, '_>` would be generic over the word lifetime and so demand `'static`).
fn body_fn<'s, 'w, R, F: FnMut(&mut Transaction<'s, 'w>) -> Result<R, Abort>>(f: F) -> F {
    f
}

/// What one committed transaction did, for the serializability check.
struct Committed {
    info: CommitInfo,
    reads: Vec<(usize, u64)>,
    writes: Vec<(usize, u64)>,
}

/// Replays committed transactions in serialization order from `init` and checks that every
/// transaction read exactly the state at its serialization point and that the replay ends in
/// `fin`. Returns the number of writer commits.
fn check_serializable(init: &[u64], fin: &[u64], mut history: Vec<Committed>) -> u64 {
    // A stable sort keeps each thread's own order among read-only transactions of one serial.
    history.sort_by_key(|c| c.info.order_key());
    let mut state = init.to_vec();
    let mut writers = 0;
    for c in &history {
        if !c.info.read_only {
            writers += 1;
            assert_eq!(c.info.serial, writers, "writer serials are 1, 2, 3, ... without gaps");
        }
        for &(i, v) in &c.reads {
            assert_eq!(state[i], v, "transaction {:?} read word {i} out of its serial order", c.info);
        }
        for &(i, v) in &c.writes {
            state[i] = v;
        }
    }
    assert_eq!(state, fin, "replaying the write sets in serial order gives the final state");
    writers
}

/// Runs `per_thread` transfers on each of `threads` threads over `accounts`; `inevitable_every`
/// makes every n-th transaction of odd threads inevitable (0: never).
fn transfers(threads: u64, per_thread: u64, accounts: usize, inevitable_every: u64) {
    let stm = Stm::new();
    let acc = words(accounts, 1000);
    let inevitable_now = AtomicUsize::new(0);
    let histories: Vec<Vec<Committed>> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (stm, acc, inevitable_now) = (&stm, &acc, &inevitable_now);
                s.spawn(move || {
                    let mut th = TxThread::new(t as u32);
                    let mut cm = Contention::new(Policy { escalate_after: 4, ..Policy::default() });
                    let mut rng = Rng::new(t + 1);
                    let mut history = Vec::new();
                    for k in 0..per_thread {
                        let n = acc.len() as u64;
                        let (a, b) = (rng.below(n) as usize, rng.below(n) as usize);
                        let amount = rng.below(50);
                        let work = rng.below(200);
                        // Every 16th transaction also sums every account (a long reader).
                        let audit = k % 16 == 0;
                        let mut body = body_fn(|tx| {
                            let inevitable = tx.is_inevitable();
                            if inevitable {
                                assert_eq!(inevitable_now.fetch_add(1, Ordering::SeqCst), 0, "two inevitable");
                            }
                            let mut reads = Vec::new();
                            if audit {
                                let mut sum = 0;
                                for (i, w) in acc.iter().enumerate() {
                                    let v = tx.read(w)?;
                                    reads.push((i, v));
                                    sum += v;
                                }
                                // Opacity: even a doomed transaction sees a consistent total.
                                assert_eq!(sum, 1000 * n, "a transaction saw a torn snapshot");
                            }
                            let va = tx.read(&acc[a])?;
                            reads.push((a, va));
                            let mut writes = Vec::new();
                            think(work);
                            if a != b && va >= amount {
                                let vb = tx.read(&acc[b])?;
                                reads.push((b, vb));
                                tx.write(&acc[a], va - amount);
                                tx.write(&acc[b], vb + amount);
                                writes = vec![(a, va - amount), (b, vb + amount)];
                            }
                            tx.validate()?;
                            if inevitable {
                                inevitable_now.fetch_sub(1, Ordering::SeqCst);
                            }
                            Ok((reads, writes))
                        });
                        let explicit = inevitable_every > 0 && t % 2 == 1 && k % inevitable_every == 0;
                        let ((reads, writes), info) = if explicit {
                            let mut tx = Transaction::begin_inevitable(stm, &mut th, &mut || {});
                            let r = body(&mut tx).expect("an inevitable transaction never aborts");
                            (r, tx.commit(&mut th).expect("an inevitable transaction never aborts"))
                        } else {
                            atomically(stm, &mut th, &mut cm, &mut || {}, &mut body)
                        };
                        assert!(info.inevitable || !explicit);
                        history.push(Committed { info, reads, writes });
                    }
                    history
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker panicked")).collect()
    });
    let fin: Vec<u64> = acc.iter().map(|w| w.load(Ordering::SeqCst)).collect();
    assert_eq!(fin.iter().sum::<u64>(), 1000 * accounts as u64, "money was created or lost");
    let history: Vec<Committed> = histories.into_iter().flatten().collect();
    assert_eq!(history.len() as u64, threads * per_thread);
    let writers = check_serializable(&vec![1000; accounts], &fin, history);
    assert_eq!(writers, stm.commits(), "every writer commit is accounted for");
}

#[test]
fn transfers_are_serializable_under_contention() {
    // Few accounts: most transactions conflict.
    transfers(4, 20_000, 4, 0);
}

#[test]
fn transfers_are_serializable_over_many_accounts() {
    transfers(4, 20_000, 64, 0);
}

#[test]
fn inevitable_and_normal_transactions_mix() {
    transfers(4, 20_000, 8, 3);
}

#[test]
fn readers_never_see_a_torn_snapshot() {
    // Writers keep every word equal; readers assert it inside the transaction, before
    // knowing whether it will commit (opacity, not just serializability).
    const WORDS: usize = 8;
    let stm = Stm::new();
    let ws = words(WORDS, 0);
    let torn_checks = AtomicU64::new(0);
    thread::scope(|s| {
        for t in 0..4u32 {
            let (stm, ws, torn_checks) = (&stm, &ws, &torn_checks);
            s.spawn(move || {
                let mut th = TxThread::new(t);
                let mut cm = Contention::new(Policy::default());
                for _ in 0..20_000 {
                    atomically(stm, &mut th, &mut cm, &mut || {}, |tx| {
                        let first = tx.read(&ws[0])?;
                        for w in &ws[1..] {
                            assert_eq!(tx.read(w)?, first, "torn snapshot");
                        }
                        torn_checks.fetch_add(1, Ordering::Relaxed);
                        think(50);
                        if t % 2 == 0 {
                            for w in ws {
                                tx.write(w, first + 1);
                            }
                        }
                        Ok(())
                    });
                }
            });
        }
    });
    let last = ws[0].load(Ordering::SeqCst);
    assert_eq!(last, 2 * 20_000, "every increment of the two writer threads is kept");
    assert!(ws.iter().all(|w| w.load(Ordering::SeqCst) == last));
    assert!(torn_checks.load(Ordering::Relaxed) >= 4 * 20_000);
}

/// A heap object as the engine lays it out: an STM word, then slots.
struct Obj {
    stm: AtomicU64,
    slots: [AtomicU64; 2],
}

#[test]
fn private_objects_publish_safely() {
    // Each writer "allocates" objects from its own pool, fills them without barriers while
    // private, publishes one by storing its index in a shared word, then keeps updating
    // published objects through the barriers. Readers follow the shared word and check the
    // object's invariant slot1 == 2 * slot0 + 1.
    const POOL: usize = 2_000;
    let stm = Stm::new();
    let published = words(2, u64::MAX);
    let pools: Vec<Vec<Obj>> = (0..2)
        .map(|_| {
            (0..POOL).map(|_| Obj { stm: AtomicU64::new(0), slots: [AtomicU64::new(0), AtomicU64::new(0)] }).collect()
        })
        .collect();
    thread::scope(|s| {
        for t in 0..2usize {
            let (stm, published, pool) = (&stm, &published, &pools[t]);
            s.spawn(move || {
                let mut th = TxThread::new(t as u32);
                let mut cm = Contention::new(Policy::default());
                for (i, o) in pool.iter().enumerate() {
                    atomically(stm, &mut th, &mut cm, &mut || {}, |tx| {
                        // Allocation: the STM word is the transaction's tag.
                        o.stm.store(tx.private_tag(), Ordering::Relaxed);
                        tx.write_in(&o.stm, &o.slots[0], i as u64);
                        tx.write_in(&o.stm, &o.slots[1], 2 * i as u64 + 1);
                        assert!(tx.is_private(&o.stm));
                        tx.write(&published[t], i as u64);
                        Ok(())
                    });
                    // Update an earlier, now shared, object: must go through the redo log.
                    let old = &pool[i / 2];
                    atomically(stm, &mut th, &mut cm, &mut || {}, |tx| {
                        assert!(!tx.is_private(&old.stm), "a published object is shared");
                        let v = tx.read_in(&old.stm, &old.slots[0])? + 1;
                        tx.write_in(&old.stm, &old.slots[0], v);
                        tx.write_in(&old.stm, &old.slots[1], 2 * v + 1);
                        Ok(())
                    });
                }
            });
        }
        for r in 0..2usize {
            let (stm, published, pools) = (&stm, &published, &pools);
            s.spawn(move || {
                let mut th = TxThread::new(2 + r as u32);
                let mut cm = Contention::new(Policy::default());
                for k in 0..20_000usize {
                    let t = k % 2;
                    atomically(stm, &mut th, &mut cm, &mut || {}, |tx| {
                        let i = tx.read(&published[t])?;
                        if i != u64::MAX {
                            let o = &pools[t][i as usize];
                            let a = tx.read_in(&o.stm, &o.slots[0])?;
                            let b = tx.read_in(&o.stm, &o.slots[1])?;
                            assert_eq!(b, 2 * a + 1, "a reader saw a half-initialized or torn object");
                            assert!(a >= i, "a reader saw the object before its initialization");
                        }
                        Ok(())
                    });
                }
            });
        }
    });
}

#[test]
fn safepoint_stops_every_running_thread_and_not_parked_ones() {
    // Workers run transactions between polls; one of them collects now and then; a "joiner"
    // parks around a long wait. During a stop no thread may be in guest code.
    let stm = Stm::new();
    let sp = Safepoints::new();
    let ws = words(4, 0);
    let in_guest = AtomicUsize::new(0);
    let collections = AtomicUsize::new(0);
    for _ in 0..4 {
        sp.register();
    }
    thread::scope(|s| {
        for t in 0..3u32 {
            let (stm, sp, ws, in_guest, collections) = (&stm, &sp, &ws, &in_guest, &collections);
            s.spawn(move || {
                let mut th = TxThread::new(t);
                let mut cm = Contention::new(Policy::default());
                for k in 0..3_000u32 {
                    sp.poll();
                    if t == 0 && k % 100 == 0 {
                        if sp.request_stop() {
                            assert_eq!(in_guest.load(Ordering::SeqCst), 0, "guest code ran during a stop");
                            collections.fetch_add(1, Ordering::Relaxed);
                            sp.resume();
                        }
                        continue;
                    }
                    in_guest.fetch_add(1, Ordering::SeqCst);
                    // Waiting for the inevitable token is a boundary: the thread may stop there.
                    let mut wait = || {
                        in_guest.fetch_sub(1, Ordering::SeqCst);
                        sp.poll();
                        in_guest.fetch_add(1, Ordering::SeqCst);
                    };
                    atomically(stm, &mut th, &mut cm, &mut wait, |tx| {
                        let i = (k % 4) as usize;
                        let v = tx.read(&ws[i])?;
                        tx.write(&ws[i], v + 1);
                        Ok(())
                    });
                    in_guest.fetch_sub(1, Ordering::SeqCst);
                }
                sp.unregister();
            });
        }
        let (sp, in_guest) = (&sp, &in_guest);
        s.spawn(move || {
            for _ in 0..50 {
                sp.park();
                thread::sleep(std::time::Duration::from_micros(200));
                sp.unpark();
                in_guest.fetch_add(1, Ordering::SeqCst);
                in_guest.fetch_sub(1, Ordering::SeqCst);
                sp.poll();
            }
            sp.unregister();
        });
    });
    assert_eq!(collections.load(Ordering::Relaxed), 30, "every requested collection happened");
    let total: u64 = ws.iter().map(|w| w.load(Ordering::SeqCst)).sum();
    assert_eq!(total, 3 * 3_000 - 30);
}

#[test]
fn contention_policy_escalates_and_resizes() {
    let mut cm = Contention::new(Policy { escalate_after: 3, max_segments: 8 });
    assert_eq!(cm.target_segments(), 1);
    for want in [2, 4, 8, 8] {
        cm.on_commit();
        assert_eq!(cm.target_segments(), want);
    }
    let retries: Vec<_> = (0..6).map(|_| cm.on_abort()).collect();
    use lockstep_optimized::stm::Retry::{Inevitable, Normal};
    assert_eq!(retries, [Normal, Normal, Inevitable, Normal, Normal, Inevitable]);
    assert_eq!(cm.target_segments(), 1);
}
