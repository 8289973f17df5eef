//! Measuring a child process from outside: its resident memory from `/proc`, its metrics
//! endpoint, and its CPU time and peak RSS from `wait4` once it has exited.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Resident set size of `pid` (VmRSS) and its high-water mark (VmHWM), in KiB.
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// One scrape of a Prometheus text endpoint: `name{labels}` → value.
pub type Scrape = BTreeMap<String, f64>;

pub fn scrape(addr: SocketAddr) -> Option<Scrape> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    let mut out = Scrape::new();
    for line in body.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((key, value)) = line.rsplit_once(' ')
            && let Ok(value) = value.parse::<f64>()
        {
            out.insert(key.to_owned(), value);
        }
    }
    Some(out)
}

/// Sum of every series of metric `name` (all label sets).
pub fn sum(scrape: &Scrape, name: &str) -> f64 {
    scrape
        .iter()
        .filter(|(key, _)| {
            key.strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
        })
        .map(|(_, value)| value)
        .sum()
}

/// Series of `name` by the value of label `label`.
pub fn by_label(scrape: &Scrape, name: &str, label: &str) -> BTreeMap<String, f64> {
    let prefix = format!("{name}{{");
    let needle = format!("{label}=\"");
    scrape
        .iter()
        .filter_map(|(key, value)| {
            let labels = key.strip_prefix(&prefix)?;
            let start = labels.find(&needle)? + needle.len();
            let end = labels[start..].find('"')? + start;
            Some((labels[start..end].to_owned(), *value))
        })
        .collect()
}

/// What `wait4` reports about an exited child.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildUsage {
    pub user_s: f64,
    pub system_s: f64,
    pub max_rss_kib: u64,
    /// Exit code, or 128 + signal.
    pub exit_code: i32,
}

/// Waits for `pid` and returns its own resource usage (not that of other children).
pub fn wait_child(pid: u32) -> std::io::Result<ChildUsage> {
    let mut status = 0;
    // SAFETY: plain FFI call with valid out-pointers; rusage is plain old data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if got < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok(ChildUsage {
        user_s: timeval(usage.ru_utime),
        system_s: timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        exit_code,
    })
}

/// CPU seconds (user + system) this process has used so far.
pub fn own_cpu_s() -> f64 {
    // SAFETY: as above.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

fn timeval(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

pub fn terminate(pid: u32) {
    // SAFETY: sends SIGTERM to our own child, whose pid we hold and have not reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
}

/// Whether `pid` (our child, not yet reaped) has exited: a zombie in `/proc/<pid>/stat`,
/// or gone. Reading the state, unlike `waitpid`, leaves the child's rusage for [`wait_child`].
pub fn has_exited(pid: u32) -> bool {
    process_state(pid).is_none_or(|state| state == 'Z' || state == 'X')
}

fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the command name, which is in parentheses and may hold spaces.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Stops `pid` (SIGSTOP) and waits until it is stopped, at most a second; false if it did
/// not stop (it exited meanwhile), in which case it is sent SIGCONT again.
pub fn stop(pid: u32) -> bool {
    // SAFETY: signals our own child, whose pid we hold and have not reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGSTOP);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < deadline {
        match process_state(pid) {
            Some('T') => return true,
            Some('Z' | 'X') | None => return false,
            _ => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    resume(pid);
    false
}

/// Lets a stopped `pid` go on (SIGCONT).
pub fn resume(pid: u32) {
    // SAFETY: as in [`stop`].
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGCONT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait_child, as the bench reaps its pipeline"
    )]
    fn a_child_is_stopped_resumed_and_seen_to_exit_without_being_reaped() {
        let child = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .expect("sleep runs");
        let pid = child.id();
        assert!(!has_exited(pid));
        assert!(stop(pid));
        assert_eq!(process_state(pid), Some('T'));
        // Stopped, it outlives its 0.3 s.
        std::thread::sleep(Duration::from_millis(500));
        assert!(!has_exited(pid));
        resume(pid);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !has_exited(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(has_exited(pid), "still {:?}", process_state(pid));
        // Not reaped by the checks: its exit status and usage are still there.
        assert_eq!(wait_child(pid).expect("reaped here").exit_code, 0);
        assert!(!stop(pid), "a reaped child cannot be stopped");
    }
}
