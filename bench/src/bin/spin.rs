//! A control for `bench/flood.sh`: CPU work shaped like the log-in flood's, with nothing of
//! Tapeline in it. RATE times a second it runs MS milliseconds of integer arithmetic on a
//! few registers (no memory traffic, so no cache is evicted) and appends `unit` to OUT.
//! `bench/flood.sh` runs it under `chrt --idle 0`, the policy of the server's hashing threads,
//! to tell what any such work costs the key calls' p99 on this machine from what the
//! server's log-ins cost them.
//!
//!     spin OUT [RATE] [MS]      # default: 20 units a second of 15 ms each

use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: spin OUT [RATE] [MS]");
        std::process::exit(2)
    };
    let out = args.get(1).unwrap_or_else(|| usage());
    let number = |i: usize, default: u64| args.get(i).map_or(Some(default), |a| a.parse().ok()).unwrap_or_else(|| usage());
    let (rate, work) = (number(2, 20).max(1), Duration::from_millis(number(3, 15)));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(out).expect("open OUT");
    let start = Instant::now();
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for unit in 0u64.. {
        // Units are due at a steady rate; one that falls behind (the CPU was busy) starts
        // at once, as a queued log-in would.
        let due = start + Duration::from_secs_f64(unit as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let begun = Instant::now();
        while begun.elapsed() < work {
            for _ in 0..1000 {
                x = std::hint::black_box(x.rotate_left(7).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (x >> 13));
            }
        }
        writeln!(file, "unit").expect("write OUT");
    }
}
