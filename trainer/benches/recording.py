"""A samples recording (the module's `samples` CSV, plain or .xz) as passes and runs, for the
offline probes beside this file."""
import collections
import csv
import lzma


def runs(path):
    """(passes, runs): the passes' t_ms in order, and per process (pid, start ms) its samples as
    (pass index, t_ms, CPU permille, RSS KiB). A pid whose age falls is another process."""
    passes, out, last_age, start = [], collections.defaultdict(list), {}, {}
    with (lzma.open(path, "rt") if path.endswith(".xz") else open(path)) as f:
        for r in csv.DictReader(f):
            t, pid, age = int(r["t_ms"]), int(r["pid"]), int(r["age_ms"])
            if not passes or passes[-1] != t:
                passes.append(t)
            if pid not in last_age or age < last_age[pid]:
                start[pid] = t - age
            last_age[pid] = age
            cpu = (int(r["cpu_user_ns"]) + int(r["cpu_sys_ns"])) * 1000 / int(r["interval_ns"])
            rss = int(r["rss_anon_kib"]) + int(r["rss_file_kib"]) + int(r["rss_shmem_kib"])
            out[(pid, start[pid])].append((len(passes) - 1, t, cpu, rss))
    return passes, out
