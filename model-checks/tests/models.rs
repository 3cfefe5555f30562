//! The loom models. Each asserts a property on observed values; `README.md` gives each one's
//! bound, run time and the planted bug (`mutant!(NAME)`) it must catch.

use lockstep_model_checks::check;
use lockstep_optimized::stm::sync::{thread, Arc, AtomicU64, Mutex, Ordering};
use lockstep_optimized::stm::{
    atomically, Abort, AbortKind, CommitInfo, Contention, Policy, Safepoints, Stm, Transaction, TxThread,
};

fn words<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

struct Shared<const N: usize> {
    stm: Stm,
    w: [AtomicU64; N],
}

fn shared<const N: usize>() -> Arc<Shared<N>> {
    Arc::new(Shared { stm: Stm::new(), w: words() })
}

fn cm() -> Contention {
    Contention::new(Policy::default())
}

/// Two writers on overlapping words: A does x += 1, y += 10; B does y += 100, z += 1000.
/// The final state is the serial one (no lost update) and each read what the serial order
/// (by commit serial) says it read.
/// Catches: writeback_before_validate.
#[test]
fn two_writers_overlapping() {
    check(8, || {
        let sh = shared::<3>();
        let sh2 = sh.clone();
        let b = thread::spawn(move || {
            let mut th = TxThread::new(1);
            atomically(&sh2.stm, &mut th, &mut cm(), &mut || {}, |tx| {
                let y = tx.read(&sh2.w[1])?;
                tx.write(&sh2.w[1], y + 100);
                let z = tx.read(&sh2.w[2])?;
                tx.write(&sh2.w[2], z + 1000);
                Ok(y)
            })
        });
        let mut th = TxThread::new(0);
        let (a_saw_y, a) = atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
            let x = tx.read(&sh.w[0])?;
            let y = tx.read(&sh.w[1])?;
            tx.write(&sh.w[0], x + 1);
            tx.write(&sh.w[1], y + 10);
            Ok(y)
        });
        let (b_saw_y, b) = b.join().expect("thread B panicked");
        let fin: Vec<u64> = sh.w.iter().map(|w| w.load(Ordering::Acquire)).collect();
        assert_eq!(fin, [1, 110, 1000], "an update was lost");
        assert!(!a.read_only && !b.read_only);
        assert_ne!(a.serial, b.serial);
        if a.serial < b.serial {
            assert_eq!((a_saw_y, b_saw_y), (0, 10), "not the order A, B");
        } else {
            assert_eq!((a_saw_y, b_saw_y), (100, 0), "not the order B, A");
        }
    });
}

/// A reader concurrent with a committer that writes x = y = 1: inside its transaction,
/// before it knows whether it commits, the reader sees x == y (opacity), and a read-only
/// commit is placed consistently with what it saw.
/// Catches: skip_read_validation, missing_acquire, release_before_writeback, write_in_place.
#[test]
fn reader_opacity() {
    check(8, || {
        let sh = shared::<2>();
        let sh2 = sh.clone();
        let w = thread::spawn(move || {
            let mut th = TxThread::new(1);
            let mut tx = Transaction::begin(&sh2.stm, &mut th);
            tx.write(&sh2.w[0], 1);
            tx.write(&sh2.w[1], 1);
            tx.commit(&mut th).expect("a blind writer never aborts")
        });
        let mut th = TxThread::new(0);
        let mut tx = Transaction::begin(&sh.stm, &mut th);
        let observed = (|| -> Result<(u64, u64), Abort> {
            let x = tx.read(&sh.w[0])?;
            let y = tx.read(&sh.w[1])?;
            // The property is checked before validate or commit: a doomed transaction too.
            assert_eq!(x, y, "the reader saw a mix of before and after");
            tx.validate()?;
            Ok((x, y))
        })();
        let winfo = w.join().expect("writer panicked");
        assert_eq!(winfo.serial, 1);
        match observed {
            Ok((x, _)) => {
                let info = tx.commit(&mut th).expect("a read-only transaction commits");
                assert!(info.read_only);
                assert_eq!(info.serial, x, "read-only serial: after the writer iff it saw its writes");
            }
            Err(abort) => {
                assert_eq!(abort.kind, AbortKind::WriteRead);
                tx.abort(&mut th);
            }
        }
    });
}

/// Two committers (x += 1, y += 1 each) and a reader of x and y: the reader's snapshot is
/// extended or refused across two commits, never mixed; no increment is lost.
/// Catches: skip_read_validation, release_before_writeback (a third thread makes the
/// interleavings of revalidation between two commits reachable).
#[test]
fn reader_between_two_committers() {
    check(3, || {
        let sh = shared::<2>();
        let committers: Vec<_> = (1..3)
            .map(|slot| {
                let sh = sh.clone();
                thread::spawn(move || {
                    let mut th = TxThread::new(slot);
                    atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
                        let x = tx.read(&sh.w[0])?;
                        let y = tx.read(&sh.w[1])?;
                        tx.write(&sh.w[0], x + 1);
                        tx.write(&sh.w[1], y + 1);
                        Ok(())
                    })
                })
            })
            .collect();
        let mut th = TxThread::new(0);
        let (seen, info) = atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
            let x = tx.read(&sh.w[0])?;
            let y = tx.read(&sh.w[1])?;
            assert_eq!(x, y, "the reader saw a mix");
            Ok(x)
        });
        assert_eq!(info.serial, seen, "a read-only transaction serializes after the writers it saw");
        for c in committers {
            c.join().expect("committer panicked");
        }
        assert_eq!(sh.w[0].load(Ordering::Acquire), 2, "an increment was lost");
        assert_eq!(sh.w[1].load(Ordering::Acquire), 2, "an increment was lost");
    });
}

/// Two inevitable transactions (x += 1, y += 1) and a normal one (x += 10, y += 10, asserting
/// x == y inside): the inevitable ones never abort and never overlap, the normal one sees no
/// mix, and every update is kept.
/// Catches: second_inevitable, inevitable_skips_writing.
#[test]
fn inevitable_and_normal() {
    check(2, || {
        let sh = shared::<2>();
        let inevitable_now = Arc::new(AtomicU64::new(0));
        let spawn_inevitable = |slot: u32| {
            let (sh, now) = (sh.clone(), inevitable_now.clone());
            thread::spawn(move || {
                let mut th = TxThread::new(slot);
                let mut tx = Transaction::begin_inevitable(&sh.stm, &mut th, &mut || {});
                assert_eq!(now.fetch_add(1, Ordering::AcqRel), 0, "two inevitable transactions at once");
                let x = tx.read(&sh.w[0]).expect("inevitable reads never abort");
                let y = tx.read(&sh.w[1]).expect("inevitable reads never abort");
                tx.write(&sh.w[0], x + 1);
                tx.write(&sh.w[1], y + 1);
                now.fetch_sub(1, Ordering::AcqRel);
                tx.commit(&mut th).expect("an inevitable transaction never aborts")
            })
        };
        let i1 = spawn_inevitable(1);
        let i2 = spawn_inevitable(2);
        let mut th = TxThread::new(0);
        let (_, n) = atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
            let x = tx.read(&sh.w[0])?;
            let y = tx.read(&sh.w[1])?;
            assert_eq!(x, y, "the normal transaction saw an inevitable write-back half done");
            tx.write(&sh.w[0], x + 10);
            tx.write(&sh.w[1], y + 10);
            Ok(())
        });
        let infos: [CommitInfo; 2] = [i1.join().expect("i1"), i2.join().expect("i2")];
        assert!(infos.iter().all(|i| i.inevitable && !i.read_only));
        let mut serials = vec![infos[0].serial, infos[1].serial, n.serial];
        serials.sort_unstable();
        assert_eq!(serials, [1, 2, 3]);
        assert_eq!(sh.w[0].load(Ordering::Acquire), 12, "an update was lost");
        assert_eq!(sh.w[1].load(Ordering::Acquire), 12, "an update was lost");
    });
}

/// A transaction writes y = 99, then rolls back (as on a failed validation), and its retry
/// writes y = x + 1; a concurrent transaction does x += 5 and reads y. Nobody ever sees 99,
/// and the retry's result matches its place in the serial order.
/// Catches: write_in_place.
#[test]
fn abort_leaves_no_trace() {
    check(8, || {
        let sh = shared::<2>();
        let sh2 = sh.clone();
        let b = thread::spawn(move || {
            let mut th = TxThread::new(1);
            atomically(&sh2.stm, &mut th, &mut cm(), &mut || {}, |tx| {
                let y = tx.read(&sh2.w[1])?;
                assert_ne!(y, 99, "a rolled-back write was seen");
                let x = tx.read(&sh2.w[0])?;
                tx.write(&sh2.w[0], x + 5);
                Ok(())
            })
        });
        let mut th = TxThread::new(0);
        let mut attempt = 0;
        let (_, a) = atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
            attempt += 1;
            let x = tx.read(&sh.w[0])?;
            if attempt == 1 {
                tx.write(&sh.w[1], 99);
                return Err(Abort { kind: AbortKind::WriteRead, word: 0 });
            }
            tx.write(&sh.w[1], x + 1);
            Ok(())
        });
        let ((), b) = b.join().expect("B panicked");
        let y = sh.w[1].load(Ordering::Acquire);
        assert_eq!(sh.w[0].load(Ordering::Acquire), 5);
        assert_eq!(y, if a.serial < b.serial { 1 } else { 6 }, "the retry is not serializable");
    });
}

/// An "object" (STM word, two slots) is allocated and filled privately (no barrier), then
/// published by storing its index in a shared root; the owner's next transaction writes the
/// now shared object and rolls back. A reader following the root sees the object fully
/// initialized and never the rolled-back values.
/// Catches: stale_private_tag.
#[test]
fn publication_of_a_private_object() {
    check(8, || {
        // Words: 0 the root (0 = unset, 1 = the object), 1 the object's STM word, 2-3 slots.
        let sh = shared::<4>();
        let sh2 = sh.clone();
        let r = thread::spawn(move || {
            let mut th = TxThread::new(1);
            atomically(&sh2.stm, &mut th, &mut cm(), &mut || {}, |tx| {
                if tx.read(&sh2.w[0])? == 1 {
                    let a = tx.read_in(&sh2.w[1], &sh2.w[2])?;
                    let b = tx.read_in(&sh2.w[1], &sh2.w[3])?;
                    assert_eq!((a, b), (7, 7), "the reader saw an unpublished state of the object");
                }
                Ok(())
            })
        });
        let mut th = TxThread::new(0);
        atomically(&sh.stm, &mut th, &mut cm(), &mut || {}, |tx| {
            sh.w[1].store(tx.private_tag(), Ordering::Relaxed);
            assert!(tx.is_private(&sh.w[1]));
            tx.write_in(&sh.w[1], &sh.w[2], 7);
            tx.write_in(&sh.w[1], &sh.w[3], 7);
            tx.write(&sh.w[0], 1);
            Ok(())
        });
        let mut tx = Transaction::begin(&sh.stm, &mut th);
        tx.write_in(&sh.w[1], &sh.w[2], 8);
        tx.write_in(&sh.w[1], &sh.w[3], 8);
        tx.abort(&mut th);
        r.join().expect("reader panicked");
        assert_eq!(sh.w[2].load(Ordering::Acquire), 7);
        assert_eq!(sh.w[3].load(Ordering::Acquire), 7);
    });
}

/// Guest-code bookkeeping for the safepoint model: under one lock, so that the check itself
/// needs no SeqCst (which loom would weaken to AcqRel).
#[derive(Default)]
struct World {
    in_guest: usize,
    collecting: bool,
    collections: usize,
}

fn enter_guest(world: &Mutex<World>) {
    let mut w = world.lock().expect("world lock");
    assert!(!w.collecting, "guest code started during a collection");
    w.in_guest += 1;
}

fn leave_guest(world: &Mutex<World>) {
    world.lock().expect("world lock").in_guest -= 1;
}

/// C, a registered thread that polls, stops the world, "collects" (checking that no thread is
/// in guest code) and resumes, then leaves the run.
fn spawn_collector(sp: &Arc<Safepoints>, world: &Arc<Mutex<World>>) -> thread::JoinHandle<()> {
    let (sp, world) = (sp.clone(), world.clone());
    thread::spawn(move || {
        sp.poll();
        if sp.request_stop() {
            {
                let mut w = world.lock().expect("world lock");
                assert_eq!(w.in_guest, 0, "a thread is in guest code during the collection");
                w.collecting = true;
                w.collections += 1;
            }
            world.lock().expect("world lock").collecting = false;
            sp.resume();
        }
        sp.unregister();
    })
}

/// The stop-the-world handshake: W runs a transaction (guest code) between polls; C requests
/// a stop and "collects"; main parks around a join of W (a blocked thread), then runs guest
/// code, then parks again to join C. No guest code runs during the collection, the collection
/// happens, and nothing deadlocks (loom fails on a deadlock).
/// Catches: safepoint_ignores_parked, unpark_ignores_stop.
#[test]
fn safepoint_handshake() {
    check(4, || {
        let stm = Arc::new(Stm::new());
        let sp = Arc::new(Safepoints::new());
        let world = Arc::new(Mutex::new(World::default()));
        let x = Arc::new(AtomicU64::new(0));
        for _ in 0..3 {
            // The spawner registers a thread before it starts (as spawn must).
            sp.register();
        }
        let w = {
            let (stm, sp, world, x) = (stm.clone(), sp.clone(), world.clone(), x.clone());
            thread::spawn(move || {
                let mut th = TxThread::new(1);
                sp.poll();
                enter_guest(&world);
                let mut tx = Transaction::begin(&stm, &mut th);
                let v = tx.read(&x).expect("no other writer");
                tx.write(&x, v + 1);
                tx.commit(&mut th).expect("no other writer");
                leave_guest(&world);
                sp.poll();
                sp.unregister();
            })
        };
        let c = spawn_collector(&sp, &world);
        sp.park();
        w.join().expect("W panicked");
        sp.unpark();
        enter_guest(&world);
        leave_guest(&world);
        sp.poll();
        sp.park();
        c.join().expect("C panicked");
        sp.unpark();
        sp.unregister();
        assert_eq!(world.lock().expect("world lock").collections, 1, "the collection did not happen");
        assert_eq!(x.load(Ordering::Acquire), 1);
    });
}

/// A spawn racing a stop: P (main), running, ends a segment of guest code, registers a child
/// K with `register_by_running` (never waits: P is running, so no stop can complete without
/// it), starts K, then reaches its next safepoint; K polls before its guest code; C requests
/// a stop and "collects". K counts as running from its registration, so a collection cannot
/// begin until K has polled (stopped) or ended: no guest code runs during it, it happens, and
/// nothing deadlocks (a register that waited for the stop would wait for itself).
/// Catches: register_by_running_skips_count.
#[test]
fn spawn_during_stop() {
    check(4, || {
        let sp = Arc::new(Safepoints::new());
        let world = Arc::new(Mutex::new(World::default()));
        // P and C, registered before C starts (as spawn must).
        sp.register();
        sp.register();
        let c = spawn_collector(&sp, &world);
        sp.poll();
        enter_guest(&world);
        leave_guest(&world);
        // Between transactions, before P's next safepoint (as par.rs does after a commit).
        sp.register_by_running();
        let k = {
            let (sp, world) = (sp.clone(), world.clone());
            thread::spawn(move || {
                sp.poll();
                enter_guest(&world);
                leave_guest(&world);
                sp.unregister();
            })
        };
        sp.poll();
        sp.unregister();
        // P has left the run, so its joins need no park: no stop waits for it.
        k.join().expect("K panicked");
        c.join().expect("C panicked");
        assert_eq!(world.lock().expect("world lock").collections, 1, "the collection did not happen");
    });
}

/// Tier 2's compiler thread hands a finished compilation to the thread that owns the loop's
/// region (`stm::handoff`, the JIT's one step across OS threads). The owner polls without
/// blocking, as tier 1 does at each arrival at the loop's header while the compilation runs,
/// and once told the result is there it finds it, exactly once; the compiler may finish before
/// or after any of the owner's polls.
/// Catches: handoff_ready_before_result.
#[test]
fn compiled_code_handoff() {
    use lockstep_optimized::stm::handoff::Handoff;
    check(3, || {
        let h = Arc::new(Handoff::<u64>::new());
        let h2 = h.clone();
        let compiler = thread::spawn(move || h2.put(42));
        let got = loop {
            match h.take() {
                Some(r) => break r,
                None => thread::yield_now(),
            }
        };
        assert_eq!(got, Some(42), "told that the compilation was ready, the owner found no result");
        assert_eq!(h.take(), Some(None), "a result taken twice");
        compiler.join().expect("compiler panicked");
    });
}
