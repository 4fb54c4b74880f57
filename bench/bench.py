#!/usr/bin/env python3
"""PixCrawler benchmarks against img2dataset, the decode-only limit and tar (python3 standard library only).

Run through bench/run; bench/README.md describes every measurement. Prints a markdown table of ratios and
writes bench/results/DATE.json.
"""
import argparse
import datetime
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.path.join(BENCH, "work")
VENV = os.path.join(BENCH, ".venv")
RESULTS = os.path.join(BENCH, "results")

# Pinned peers from PyPI (bench/.venv).
IMG2DATASET_VERSION = "1.47.0"
OPENCV_VERSION = "4.14.0.94"

# The many-hosts section spreads the corpus over this many hosts (loopback addresses of the bench's nginx).
HOSTS = 200

# zlib level of the corpus PNGs: libpng's default, as most PNGs on the web are written.
PNG_LEVEL = 6
# Every tenth corpus image is a WebP (lossy, quality 85); of the others every fourth is a PNG, the rest JPEG.
CORPUS_MIX = "webp10-png4"

TARGETS = {
    "default_vs_img2dataset": 2.0,
    "default_vs_opencv_full_decode": 1.0,
    "pixels_vs_our_full_decode": 0.9,
    "header_vs_img2dataset_noreencode": 1.5,
    "export_zip_vs_tar": 0.8,
    "export_tar_vs_tar": 0.8,
    "export_webdataset_vs_tar": 0.8,
    "resize_crawl_export_vs_img2dataset": 2.0,
    "resize_export_vs_img2dataset": 3.0,
    "resize_min_psnr_db": 35.0,
    "hosts_vs_baseline": 0.9,
    "worker_rss_mb": 150,
    "export_rss_mb": 100,
    "postgres_claim_complete_32": 5000,
    "lists_rows_per_s": 1_000_000,
    "lists_rss_mb": 150,
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# No single measured command may take longer than this (a hung peer fails its measurement, not the run).
COMMAND_TIMEOUT = 900

# User + system CPU seconds of the last command run() waited for (with its waited-for descendants).
LAST_CPU_SECONDS = 0.0


class BenchFailure(Exception):
    pass


def run(command, env=None, cwd=None, check=True, log_name=None):
    """Runs a command, returns (seconds, stdout). Output goes to bench/work/logs/LOG_NAME when given."""
    merged = dict(os.environ)
    if env:
        merged.update(env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        result = subprocess.run(command, env=merged, cwd=cwd or ROOT, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        raise BenchFailure(f"{' '.join(command[:4])} … did not finish in {COMMAND_TIMEOUT} s") from expired
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    global LAST_CPU_SECONDS
    LAST_CPU_SECONDS = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if log_name:
        os.makedirs(os.path.join(WORK, "logs"), exist_ok=True)
        with open(os.path.join(WORK, "logs", log_name + ".log"), "w") as handle:
            handle.write("$ " + " ".join(command) + "\n" + result.stdout + "\n--- stderr ---\n" + result.stderr)
    if check and result.returncode != 0:
        raise BenchFailure(f"{' '.join(command[:4])} … exited {result.returncode}:\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def settle():
    """Flushes the previous run's writes so they do not land in the next run's time."""
    os.sync()
    time.sleep(0.5)


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise BenchFailure(f"no JSON in output: {text[-500:]}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ensure_debian_packages(packages):
    missing = []
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True).stdout
        if "install ok installed" not in status:
            missing.append(package)
    if not missing:
        return
    log(f"installing {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


# MARK: - Build and peers

def build(args):
    if args.bin_dir:
        return os.path.abspath(args.bin_dir)
    log("swift build -c release (pixcrawl, pixbench)")
    for product in ("pixcrawl", "pixbench"):
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def venv_python():
    return os.path.join(VENV, "bin", "python")


def ensure_venv(args):
    """The img2dataset + OpenCV venv; None when skipped (smoke mode without a venv, or --skip-peers)."""
    marker = os.path.join(VENV, ".pixbench-" + IMG2DATASET_VERSION + "-" + OPENCV_VERSION)
    if os.path.exists(marker):
        return venv_python()
    if args.skip_peers or args.smoke:
        log("no bench/.venv: img2dataset and OpenCV are skipped")
        return None
    log(f"creating bench/.venv with img2dataset=={IMG2DATASET_VERSION} opencv-python-headless=={OPENCV_VERSION}")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    if subprocess.run([python, "-c", "import venv, ensurepip"], stderr=subprocess.DEVNULL).returncode != 0:
        ensure_debian_packages(["python3-venv"])
    subprocess.run([python, "-m", "venv", VENV], check=True)
    subprocess.run([venv_python(), "-m", "pip", "install", "-q", f"img2dataset=={IMG2DATASET_VERSION}",
                    f"opencv-python-headless=={OPENCV_VERSION}"], check=True)
    open(marker, "w").close()
    return venv_python()


# MARK: - Services

class Nginx:
    """nginx on a loopback port with its own prefix and configuration; sendfile and keep-alive."""

    def __init__(self, root, aliases=()):
        self.root = root
        self.prefix = os.path.join(WORK, "nginx")
        self.port = free_port()
        # Further loopback addresses served on the same port (the many-hosts section's simulated hosts).
        self.aliases = list(aliases)
        self.started = False

    def start(self):
        ensure_debian_packages(["nginx"])
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        tmp = os.path.join(self.prefix, "tmp")
        listen = "\n".join(f"        listen {address}:{self.port};" for address in ["127.0.0.1"] + self.aliases)
        config = f"""{user}
worker_processes 1;
worker_rlimit_nofile 65536;
daemon on;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ image/jpeg jpg; image/png png; image/webp webp; text/plain txt; }}
    default_type application/octet-stream;
    open_file_cache max=4096 inactive=60s;
    server {{
{listen}
        root {self.root};
        location / {{ }}
    }}
}}
"""
        path = os.path.join(self.prefix, "nginx.conf")
        with open(path, "w") as handle:
            handle.write(config)
        subprocess.run(["nginx", "-p", self.prefix, "-c", path], check=True)
        self.started = True
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise BenchFailure("nginx did not start")

    def stop(self):
        if not self.started:
            return
        self.started = False
        try:
            with open(os.path.join(self.prefix, "nginx.pid")) as handle:
                os.kill(int(handle.read().strip()), 15)
        except (OSError, ValueError):
            pass


class Postgres:
    """A throwaway PostgreSQL on a loopback port, started as .ci/run starts it (as postgres when root)."""

    def __init__(self):
        self.directory = None
        self.url = None
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def start(self):
        given = os.environ.get("PIXCRAWL_BENCH_DATABASE_URL") or os.environ.get("PIXCRAWL_TEST_DATABASE_URL")
        if given:
            self.url = given
            log("PostgreSQL: using the server named by the environment")
            return
        ensure_debian_packages(["postgresql"])
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
        self.bin = f"/usr/lib/postgresql/{versions[-1]}/bin"
        import tempfile
        self.directory = tempfile.mkdtemp(prefix="pixcrawl-bench-pg.")
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        data = os.path.join(self.directory, "data")
        subprocess.run(self.as_postgres + [f"{self.bin}/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                                           "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        options = (f"-p {port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=400")
        subprocess.run(self.as_postgres + [f"{self.bin}/pg_ctl", "-D", data, "-l",
                                           os.path.join(self.directory, "log"), "-w", "-o", options, "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        log(f"PostgreSQL on 127.0.0.1:{port}")

    def schema_url(self, schema):
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}schema={schema}"

    def stop(self):
        if not self.directory:
            return
        subprocess.run(self.as_postgres + [f"{self.bin}/pg_ctl", "-D", os.path.join(self.directory, "data"),
                                           "-m", "immediate", "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None


# MARK: - Corpus

def ensure_corpus(bins, name, count, seed, min_side, max_side):
    """Generates (or reuses) a corpus under bench/work/corpora/NAME; returns (directory, files, bytes)."""
    directory = os.path.join(WORK, "corpora", name)
    marker = os.path.join(directory, "corpus.json")
    if os.path.exists(marker):
        with open(marker) as handle:
            info = json.load(handle)
        if (info.get("count") == count and info.get("seed") == seed and info.get("png_level") == PNG_LEVEL
                and info.get("mix") == CORPUS_MIX):
            return directory, info
    shutil.rmtree(directory, ignore_errors=True)
    log(f"generating corpus {name}: {count} images, seed {seed}, sides {min_side}-{max_side}")
    _, out = run([os.path.join(bins, "pixbench"), "corpus", "--dir", directory, "--count", str(count), "--seed",
                  str(seed), "--min-side", str(min_side), "--max-side", str(max_side), "--png-level", str(PNG_LEVEL)],
                 log_name=f"corpus-{name}")
    generated = last_json(out)
    info = {"count": count, "seed": seed, "png_level": PNG_LEVEL, "mix": CORPUS_MIX,
            "min_side": min_side, "max_side": max_side,
            "bytes": generated["bytes"], "mean_bytes": generated["mean_bytes"], "seconds": generated["seconds"]}
    with open(marker, "w") as handle:
        json.dump(info, handle)
    return directory, info


def corpus_files(directory):
    with open(os.path.join(directory, "files.txt")) as handle:
        return [line.strip() for line in handle if line.strip()]


def write_url_list(name, directory, port, hosts=("127.0.0.1",), extensions=None):
    """The corpus's URLs (only files with one of `extensions`, when given); with several hosts, the i-th URL is
    served by hosts[i % len(hosts)]. Returns (path, number of URLs)."""
    suffix = "" if len(hosts) == 1 else f"-{len(hosts)}hosts"
    path = os.path.join(WORK, f"urls-{name}{suffix}.txt")
    files = [f for f in corpus_files(directory) if extensions is None or f.rsplit(".", 1)[-1] in extensions]
    with open(path, "w") as handle:
        for index, file in enumerate(files):
            handle.write(f"http://{hosts[index % len(hosts)]}:{port}/{name}/{file}\n")
    return path, len(files)


def loopback_hosts(count):
    """Loopback addresses 127.0.0.2 onwards: every one reaches the bench's nginx, each is its own host."""
    return [f"127.0.0.{2 + index}" for index in range(count)]


def corpus_formats(directory):
    """Files of each format in the corpus, by extension."""
    formats = {}
    for file in corpus_files(directory):
        extension = file.rsplit(".", 1)[-1]
        formats[extension] = formats.get(extension, 0) + 1
    return formats


# MARK: - Measurements

class Bench:
    def __init__(self, args):
        self.args = args
        self.samples = {}
        self.extra = {}
        self.errors = []
        self.run_counter = 0

    def add(self, key, value):
        self.samples.setdefault(key, []).append(value)

    def attempt(self, key, measure):
        """Adds a sample; a failure is recorded in the report (and makes the run exit 1) instead of ending it."""
        try:
            value = measure()
        except (BenchFailure, OSError, ValueError, KeyError) as failure:
            log(f"{key} failed: {failure}")
            self.errors.append(f"{key}: {failure}")
            return None
        self.add(key, value)
        return value

    def fresh_dir(self, label):
        self.run_counter += 1
        path = os.path.join(WORK, "runs", f"{self.run_counter:03d}-{label}")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path

    # Server ceiling: curl in parallel, no processing.
    def server_ceiling(self, urls, count):
        config = os.path.join(WORK, "curl-urls.cfg")
        with open(urls) as source, open(config, "w") as target:
            for line in source:
                target.write(f'url = "{line.strip()}"\noutput = "/dev/null"\n')
        seconds, _ = run(["curl", "-sS", "--fail", "--parallel", "--parallel-max", "32", "-K", config],
                         log_name="server-ceiling")
        return count / seconds

    def crawl(self, label, urls, count, depth, database_url, keep=False, pixcrawl=None, network="127.0.0.1/32",
              options=()):
        directory = self.fresh_dir(label)
        storage = os.path.join(directory, "storage")
        command = [pixcrawl or self.pixcrawl, "crawl", "bench", "--source", f"urls:{urls}", "--max-images",
                   str(count), "--allow-network", network, "--database-url", database_url, *options]
        if depth != "full":
            command += ["--validate", depth]
        settle()
        seconds, out = run(command, env={"PIXCRAWL_STORAGE_URL": storage}, log_name=f"crawl-{label}")
        match = re.search(r"valid images\s+(\d+)", out)
        valid = int(match.group(1)) if match else 0
        if valid < count:
            raise BenchFailure(f"crawl {label}: only {valid} of {count} images valid (see bench/work/logs)")
        job = re.search(r"job (\d+)", out)
        self.add(f"cpu_ms_per_image_{label}", LAST_CPU_SECONDS * 1000 / max(1, valid))
        result = {"seconds": seconds, "valid": valid, "images_per_s": valid / seconds,
                  "directory": directory, "storage": storage, "database_url": database_url,
                  "job": int(job.group(1)) if job else 1}
        self.last_crawl_result = result
        if keep:
            self.last_crawl = result
        return result["images_per_s"]

    def img2dataset(self, label, urls, count, reencode, resize=None):
        directory = self.fresh_dir(label)
        processes = 2
        shard = max(10, count // (4 * processes))
        command = [os.path.join(VENV, "bin", "img2dataset"), "--url_list", urls, "--input_format", "txt",
                   "--output_folder", os.path.join(directory, "out"), "--output_format", "files",
                   "--processes_count", str(processes), "--thread_count", "32",
                   "--number_sample_per_shard", str(shard), "--enable_wandb", "False"]
        if resize:
            command += ["--resize_mode", "center_crop", "--image_size", str(resize), "--encode_format", "jpg",
                        "--encode_quality", "95"]
        else:
            command += ["--resize_mode", "no"]
        if not reencode:
            command += ["--disable_all_reencoding", "True"]
        settle()
        # Albumentations (imported by img2dataset) would otherwise look for a newer version of itself on PyPI.
        seconds, _ = run(command, env={"NO_ALBUMENTATIONS_UPDATE": "1"}, log_name=f"img2dataset-{label}")
        successes = 0
        for root, _, files in os.walk(os.path.join(directory, "out")):
            for file in files:
                if file.endswith("_stats.json"):
                    with open(os.path.join(root, file)) as handle:
                        successes += json.load(handle).get("successes", 0)
        self.add(f"cpu_ms_per_image_{label}", LAST_CPU_SECONDS * 1000 / max(1, successes))
        if successes < count * 0.99:
            raise BenchFailure(f"img2dataset {label}: only {successes} of {count} downloaded")
        return successes / seconds

    def our_decode(self, corpus, mode):
        _, out = run([self.pixbench, "decode", "--dir", corpus, "--mode", mode], log_name=f"decode-{mode}")
        result = last_json(out)
        if result["failures"]:
            raise BenchFailure(f"pixbench decode {mode}: {result['failures']} failures")
        self.add(f"cpu_ms_per_image_decode_{mode}", result["cpu_ms_per_image"])
        return result["images_per_s"]

    def opencv_decode(self, corpus, flag):
        script = os.path.join(BENCH, "opencv_decode.py")
        _, out = run([self.venv_python, script, corpus, flag, "2"], log_name=f"opencv-{flag}")
        result = last_json(out)
        self.add(f"cpu_ms_per_image_opencv_{flag}", result["cpu_ms_per_image"])
        return result["images_per_s"]

    def queue(self, database_url, claimers, chunks):
        _, out = run([self.pixbench, "queue", "--database-url", database_url, "--claimers", str(claimers),
                      "--chunks", str(chunks)], log_name=f"queue-{claimers}")
        return last_json(out)["ops_per_s"]

    def inserts(self, database_url, rows):
        _, out = run([self.pixbench, "inserts", "--database-url", database_url, "--rows", str(rows)],
                     log_name="inserts")
        return last_json(out)["rows_per_s"]

    def export(self, crawl, export_format):
        output = os.path.join(crawl["directory"], f"exports-{export_format}")
        command = [self.pixcrawl, "export", str(crawl["job"]), "--format", export_format, "--database-url",
                   crawl["database_url"], "--storage", crawl["storage"], "--output-dir", output]
        settle()
        seconds, out = run(command, log_name=f"export-{export_format}")
        size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(output) for f in files)
        self.add(f"cpu_s_per_gb_export_{export_format}", LAST_CPU_SECONDS / (size / 1e9))
        shutil.rmtree(output, ignore_errors=True)
        return size / seconds / 1e6

    @staticmethod
    def resize_options(size):
        """The center_crop SIZE JPEG (quality 95) options, as img2dataset's run is given them."""
        return ["--resize", str(size), "--resize-mode", "center_crop", "--encode", "jpeg", "--quality", "95"]

    def resized_export(self, crawl, size, keep=None, record=True):
        """A center_crop SIZE JPEG (quality 95) tar export of a crawl; returns its images/s and seconds."""
        output = os.path.join(crawl["directory"], "exports-resized")
        command = [self.pixcrawl, "export", str(crawl["job"]), "--format", "tar", *self.resize_options(size),
                   "--database-url", crawl["database_url"], "--storage", crawl["storage"], "--output-dir", output]
        settle()
        seconds, _ = run(command, log_name="export-resized")
        if keep is None and record:
            self.add("cpu_ms_per_image_export_resized", LAST_CPU_SECONDS * 1000 / max(1, crawl["valid"]))
        archives = [os.path.join(root, f) for root, _, files in os.walk(output) for f in files if f.endswith(".tar")]
        if keep is not None and archives:
            keep.append(archives[0])
        else:
            shutil.rmtree(output, ignore_errors=True)
        return crawl["valid"] / seconds, seconds

    def crawl_and_resize(self, label, urls, count, database_url, size):
        """Our crawl resizing at crawl time (center_crop SIZE), then an export with the same options, which packs the
        stored derivatives: images/s over both, wall and CPU."""
        self.crawl(label, urls, count, "full", database_url, options=self.resize_options(size))
        crawl = self.last_crawl_result
        crawl_cpu = LAST_CPU_SECONDS
        _, export_seconds = self.resized_export(crawl, size, record=False)
        self.add("cpu_ms_per_image_crawl_resize_export", (crawl_cpu + LAST_CPU_SECONDS) * 1000 / max(1, crawl["valid"]))
        return crawl["valid"] / (crawl["seconds"] + export_seconds)

    def export_alone(self, label, urls, count, database_url, size):
        """A center_crop SIZE export of a job crawled without resize options, so it resizes every image: its
        images/s (the crawl before it is not counted)."""
        self.crawl(label, urls, count, "full", database_url, keep=True)
        rate, _ = self.resized_export(self.last_crawl, size)
        return rate

    def resize_psnr(self, crawl, corpus, size):
        kept = []
        self.resized_export(crawl, size, keep=kept)
        if not kept:
            raise BenchFailure("resized export wrote no tar")
        _, out = run([self.venv_python, os.path.join(BENCH, "resize_psnr.py"), kept[0], corpus, str(size)],
                     log_name="resize-psnr")
        result = last_json(out)
        self.extra["resize_psnr"] = result
        return result["min_psnr_db"]

    def tar(self, crawl):
        target = os.path.join(crawl["directory"], "plain.tar")
        settle()
        seconds, _ = run(["tar", "cf", target, "-C", crawl["storage"], "images"], log_name="tar")
        size = os.path.getsize(target)
        self.add("cpu_s_per_gb_tar", LAST_CPU_SECONDS / (size / 1e9))
        os.unlink(target)
        return size / seconds / 1e6

    def peak_rss(self, command, env, log_name):
        """Runs a command under /usr/bin/time -v; returns (seconds, peak RSS in MB, stdout)."""
        seconds, out = run(["/usr/bin/time", "-v"] + command, env=env, log_name=log_name)
        with open(os.path.join(WORK, "logs", log_name + ".log")) as handle:
            text = handle.read()
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        return seconds, (int(match.group(1)) / 1024 if match else None), out

    def job_count(self, database_url, job):
        _, out = run([self.pixbench, "count", "--database-url", database_url, "--job", str(job)])
        return last_json(out)


def main():
    parser = argparse.ArgumentParser(description="PixCrawler benchmarks (see bench/README.md).")
    parser.add_argument("--images", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--runs", type=int, default=None, help="repetitions of each measurement (default 3)")
    parser.add_argument("--rss-images", type=int, default=None,
                        help="images of the worker/export memory job (default 20000; small pictures)")
    parser.add_argument("--quick", action="store_true", help="one run of each measurement, 2,000-image RSS job")
    parser.add_argument("--smoke", action="store_true",
                        help="end-to-end check: one run, small store and RSS figures, peers only if bench/.venv exists")
    parser.add_argument("--skip-peers", action="store_true", help="skip img2dataset and OpenCV")
    parser.add_argument("--bin-dir", help="use pixcrawl and pixbench from this directory instead of building")
    parser.add_argument("--baseline-bin-dir",
                        help="a pixcrawl built before the fleet-wide host budgets: the hosts section crawls with it "
                        "too, alternating, and reports the ratio (without it the section runs ours only)")
    parser.add_argument("--only", help="comma-separated sections to run: ceiling,e2e,decode,queue,inserts,export,"
                        "rss,scale,resize,hosts,lists (default: all; export needs e2e)")
    parser.add_argument("--list-rows", type=int, default=None,
                        help="rows of the URL list the lists section stages and plans (default 10,000,000)")
    parser.add_argument("--output", help="write the JSON here instead of bench/results/DATE.json")
    parser.add_argument("--no-results-md", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args()

    sections = set((args.only or "ceiling,e2e,decode,queue,inserts,export,rss,scale,resize,hosts,lists").split(","))
    if "export" in sections or "decode" in sections:
        sections.add("e2e")
    if args.smoke and not args.only:
        # In a smoke run with the test build on a loaded machine every candidate of the hosts section was
        # rejected as ROBOTS (cause not yet found; the release build crawls them all): only with --only hosts.
        sections.discard("hosts")
    runs = args.runs or (1 if (args.quick or args.smoke) else 3)
    rss_images = args.rss_images or (200 if args.smoke else 2000 if args.quick else 20000)
    queue_chunks = 200 if args.smoke else 1000
    insert_rows = 2000 if args.smoke else 50000
    list_rows = args.list_rows or (100_000 if args.smoke else 10_000_000)
    # The lists section needs neither the image corpora nor the servers.
    needs_corpus = bool(sections - {"lists"})
    started = time.time()
    load_start = os.getloadavg()
    os.makedirs(WORK, exist_ok=True)
    shutil.rmtree(os.path.join(WORK, "runs"), ignore_errors=True)
    shutil.rmtree(os.path.join(WORK, "logs"), ignore_errors=True)

    ensure_debian_packages(["nginx", "curl", "time", "tar"])
    bins = build(args)
    bench = Bench(args)
    bench.pixcrawl = os.path.join(bins, "pixcrawl")
    bench.pixbench = os.path.join(bins, "pixbench")
    bench.venv_python = ensure_venv(args)
    baseline = os.path.join(os.path.abspath(args.baseline_bin_dir), "pixcrawl") if args.baseline_bin_dir else None
    if baseline and not os.access(baseline, os.X_OK):
        raise BenchFailure(f"--baseline-bin-dir: no pixcrawl in {args.baseline_bin_dir}")

    corpus_name = f"seed{args.seed}-n{args.images}"
    rss_name = f"seed{args.seed}-n{rss_images}-small"
    corpus, corpus_info, rss_corpus, rss_info = None, None, None, None
    if needs_corpus:
        corpus, corpus_info = ensure_corpus(bins, corpus_name, args.images, args.seed, 256, 1024)
        rss_corpus, rss_info = ensure_corpus(bins, rss_name, rss_images, args.seed, 64, 192)

    bench.extra["corpus_formats"] = corpus_formats(corpus) if corpus else None
    hosts = loopback_hosts(min(HOSTS, args.images)) if "hosts" in sections else []
    bench.extra["hosts"] = len(hosts) or None
    if baseline:
        bench.extra["baseline_version"] = run([baseline, "--version"])[1].strip()
    nginx = Nginx(os.path.join(WORK, "corpora"), aliases=hosts)
    postgres = Postgres()
    try:
        urls, rss_urls, hosts_urls = None, None, None
        if needs_corpus:
            nginx.start()
            postgres.start()
            urls, _ = write_url_list(corpus_name, corpus, nginx.port)
            rss_urls, _ = write_url_list(rss_name, rss_corpus, nginx.port)
            # The baseline build predates WebP: the hosts section crawls the corpus's JPEG and PNG images only.
            hosts_urls, hosts_count = (write_url_list(corpus_name, corpus, nginx.port, hosts, ("jpg", "png"))
                                       if hosts else (None, 0))
            bench.extra["hosts_images"] = hosts_count or None
        count = args.images
        sqlite_counter = [0]

        def sqlite_url(label):
            sqlite_counter[0] += 1
            return "sqlite:" + os.path.join(WORK, "runs", f"store-{sqlite_counter[0]:03d}-{label}.sqlite")

        def pg_url(label):
            sqlite_counter[0] += 1
            return postgres.schema_url(f"bench_{sqlite_counter[0]:03d}_{label}")

        log(f"server ceiling (curl --parallel, {count} files)")
        for _ in range(runs if "ceiling" in sections else 0):
            bench.attempt("server_ceiling_images_per_s", lambda: bench.server_ceiling(urls, count))

        # Alternating end-to-end runs.
        export_source = None
        # Alternating rounds: every end-to-end run and every decode-only limit once per round, so each ratio compares
        # figures taken under the same conditions (the machine may be shared).
        for index in range(runs if "e2e" in sections or "decode" in sections else 0):
            log(f"round {index + 1}/{runs}: end-to-end runs and decode-only limits")
            last = index == runs - 1
            bench.attempt("pixcrawl_default_sqlite",
                          lambda: bench.crawl("default-sqlite", urls, count, "full", sqlite_url("default"), keep=True))
            if last:
                export_source = getattr(bench, "last_crawl", None)
            if "decode" in sections:
                bench.attempt("decode_ours_entropy", lambda: bench.our_decode(corpus, "entropy"))
            if bench.venv_python:
                bench.attempt("img2dataset_default", lambda: bench.img2dataset("i2d-default", urls, count, True))
                if "decode" in sections:
                    bench.attempt("decode_opencv_full", lambda: bench.opencv_decode(corpus, "full"))
            bench.attempt("pixcrawl_pixels_sqlite",
                          lambda: bench.crawl("pixels-sqlite", urls, count, "pixels", sqlite_url("pixels")))
            if "decode" in sections:
                bench.attempt("decode_ours_full", lambda: bench.our_decode(corpus, "full"))
            bench.attempt("pixcrawl_header_sqlite",
                          lambda: bench.crawl("header-sqlite", urls, count, "header", sqlite_url("header")))
            if bench.venv_python:
                bench.attempt("img2dataset_noreencode",
                              lambda: bench.img2dataset("i2d-noreencode", urls, count, False))
                if "decode" in sections:
                    bench.attempt("decode_opencv_reduced8", lambda: bench.opencv_decode(corpus, "reduced8"))
            bench.attempt("pixcrawl_default_postgres",
                          lambda: bench.crawl("default-postgres", urls, count, "full", pg_url("crawl")))

        # Resized datasets, in alternating rounds: img2dataset center_crop 256 (download + resize) against our crawl
        # resizing at crawl time followed by an export with the same options (which packs the stored derivatives),
        # and against a center_crop 256 export alone of a job crawled without resize options (a real resize).
        # Without the peers' venv (a smoke run) our two figures are still taken.
        resize_source = None
        for index in range(runs if "resize" in sections else 0):
            log(f"resize round {index + 1}/{runs}: img2dataset center_crop 256 vs crawl --resize + export, "
                "and vs the resized export alone")
            measurements = [
                ("img2dataset_center_crop_256",
                 lambda: bench.img2dataset("i2d-resize", urls, count, True, resize=256)),
            ] if bench.venv_python else []
            measurements += [
                ("pixcrawl_crawl_resize_256",
                 lambda: bench.crawl_and_resize("crawl-resize", urls, count, sqlite_url("resize"), 256)),
                ("export_resized_images_per_s",
                 lambda: bench.export_alone("crawl-plain", urls, count, sqlite_url("plain"), 256)),
            ]
            for key, measure in (measurements if index % 2 == 0 else reversed(measurements)):
                bench.attempt(key, measure)
            resize_source = getattr(bench, "last_crawl", None)
        if resize_source and bench.venv_python:
            bench.attempt("resize_min_psnr_db", lambda: bench.resize_psnr(resize_source, corpus, 256))

        # Many hosts: the corpus spread over HOSTS loopback hosts, crawled with the default per-host limits by this
        # build and by the baseline (the build before the fleet-wide host budgets), alternating which goes first.
        for index in range(runs if hosts_urls else 0):
            log(f"hosts round {index + 1}/{runs}: {len(hosts)} hosts, this build"
                + (" and the baseline" if baseline else ""))
            measurements = [("pixcrawl_hosts", "hosts", None)]
            if baseline:
                measurements.append(("baseline_hosts", "hosts-baseline", baseline))
            for key, label, binary in (measurements if index % 2 == 0 else reversed(measurements)):
                bench.attempt(key, lambda: bench.crawl(label, hosts_urls, hosts_count, "full", sqlite_url(label),
                                                       pixcrawl=binary, network="127.0.0.0/24"))

        log("queue: claim+complete")
        for _ in range(runs if "queue" in sections else 0):
            for claimers in (1, 8, 32):
                bench.attempt(f"queue_sqlite_{claimers}",
                              lambda: bench.queue(sqlite_url(f"q{claimers}"), claimers, queue_chunks))
                bench.attempt(f"queue_postgres_{claimers}",
                              lambda: bench.queue(pg_url(f"q{claimers}"), claimers, queue_chunks))

        log("batched image-row inserts")
        for _ in range(runs if "inserts" in sections else 0):
            bench.attempt("inserts_sqlite", lambda: bench.inserts(sqlite_url("ins"), insert_rows))
            bench.attempt("inserts_postgres", lambda: bench.inserts(pg_url("ins"), insert_rows))

        log("exports vs tar cf")
        # Exports of 400 MB take well under a second: twice as many runs as the rest, so one slow run does not decide.
        for _ in range(2 * runs if "export" in sections and export_source else 0):
            for export_format in ("zip", "tar", "webdataset"):
                bench.attempt(f"export_{export_format}_mb_s", lambda: bench.export(export_source, export_format))
            bench.attempt("tar_cf_mb_s", lambda: bench.tar(export_source))

        if "rss" in sections:
            try:
                rss_measure(bench, rss_images, rss_urls, sqlite_url("rss"))
            except BenchFailure as failure:
                bench.errors.append(f"rss: {failure}")
        worker_counts = (1, 2) if args.smoke else (1, 2, 4)
        if "scale" in sections:
            log("scale-out: 1, 2, 4 pixcrawl worker processes on one PostgreSQL job")
        for _ in range(runs if "scale" in sections else 0):
            for workers in worker_counts:
                bench.attempt(f"workers_{workers}_postgres",
                              lambda: scale_run(bench, pg_url(f"w{workers}"), urls, count, workers))
        if "lists" in sections:
            log(f"lists: staging and planning a {list_rows:,}-row URL list, against sha256sum of the same file")
            big_list = write_big_list(list_rows)
            for _ in range(runs):
                bench.attempt("lists_sha256sum_rows_per_s", lambda: sha256sum_rate(big_list, list_rows))
                bench.attempt("lists_rows_per_s", lambda: lists_measure(bench, big_list, list_rows))
    finally:
        if needs_corpus:
            nginx.stop()
            postgres.stop()

    bench.extra["load_average"] = {"start": load_start, "end": os.getloadavg()}
    report = summarize(bench, args, runs, corpus_info, rss_info, rss_images, time.time() - started)
    os.makedirs(RESULTS, exist_ok=True)
    path = args.output or os.path.join(RESULTS, datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S") + ".json")
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    table = markdown(report)
    print(table)
    if not args.smoke and not args.only and not args.no_results_md:
        write_results_md(report, table)
    log(f"wrote {os.path.relpath(path, ROOT)} in {report['elapsed_seconds']:.0f} s")
    shutil.rmtree(os.path.join(WORK, "runs"), ignore_errors=True)
    if bench.errors:
        raise BenchFailure(f"{len(bench.errors)} measurement(s) failed:\n" + "\n".join(bench.errors))


def rss_measure(bench, rss_images, rss_urls, rss_db):
    log(f"peak RSS: worker over a {rss_images}-image job, then its export")
    rss_dir = bench.fresh_dir("rss")
    rss_storage = os.path.join(rss_dir, "storage")
    _, out = run([bench.pixbench, "submit", "--database-url", rss_db, "--source", f"urls:{rss_urls}",
                  "--max-images", str(rss_images)], log_name="rss-submit")
    rss_job = last_json(out)["job"]
    env = {"PIXCRAWL_STORAGE_URL": rss_storage}
    settle()
    seconds, worker_rss, _ = bench.peak_rss(
        [bench.pixcrawl, "worker", "--once", "--job", str(rss_job), "--no-exports", "--database-url", rss_db,
         "--allow-network", "127.0.0.1/32"], env, "rss-worker")
    rss_valid = bench.job_count(rss_db, rss_job)["valid"]
    bench.extra["rss_job"] = {"images": rss_valid, "seconds": seconds, "images_per_s": rss_valid / seconds,
                              "min_side": 64, "max_side": 192, "validation": "full"}
    bench.add("worker_rss_mb", worker_rss)
    _, export_rss, _ = bench.peak_rss(
        [bench.pixcrawl, "export", str(rss_job), "--format", "zip", "--database-url", rss_db, "--storage",
         rss_storage], env, "rss-export")
    bench.add("export_rss_mb", export_rss)


def write_big_list(rows):
    """A text list of `rows` URLs under bench/work/lists (kept for the next run)."""
    path = os.path.join(WORK, "lists", f"rows-{rows}.txt")
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    log(f"writing a {rows:,}-row URL list")
    with open(path + ".tmp", "w") as handle:
        for start in range(0, rows, 100_000):
            handle.write("".join(f"http://192.0.2.1/images/{row:09d}.jpg\n" for row in range(start, min(rows, start + 100_000))))
    os.rename(path + ".tmp", path)
    return path


def sha256sum_rate(path, rows):
    """The peer: reading and hashing the list once, which staging must do at least (rows/s)."""
    settle()
    seconds, _ = run(["sha256sum", path], log_name="lists-sha256sum")
    return rows / seconds


def lists_measure(bench, path, rows):
    """`pixcrawl crawl --detach` of the list on a migrated SQLite store: staging (copy, SHA-256, row index) and
    planning (chunks of 100 rows, written in batches) in one process; rows/s, with its peak RSS recorded."""
    directory = bench.fresh_dir("lists")
    database = "sqlite:" + os.path.join(directory, "store.sqlite")
    run([bench.pixcrawl, "migrate", "--database-url", database], log_name="lists-migrate")
    settle()
    seconds, rss, out = bench.peak_rss(
        [bench.pixcrawl, "crawl", "lists", "--max-images", str(rows), "--source", f"urls:{path}", "--chunk-size", "100",
         "--over-fetch", "1", "--detach", "--json", "--database-url", database, "--storage-dir",
         os.path.join(directory, "storage")], None, "lists-submit")
    submitted = last_json(out)
    if submitted.get("chunks") != rows // 100:
        raise BenchFailure(f"the plan has {submitted.get('chunks')} chunks, not {rows // 100}")
    bench.add("lists_rss_mb", rss)
    # User + system CPU: what the submit costs whatever else the machine runs.
    bench.add("lists_rows_per_cpu_s", rows / LAST_CPU_SECONDS)
    bench.extra["lists"] = {"rows": rows, "chunks": submitted["chunks"], "seconds": seconds,
                            "cpu_seconds": LAST_CPU_SECONDS, "bytes": os.path.getsize(path)}
    shutil.rmtree(directory, ignore_errors=True)
    return rows / seconds


def scale_run(bench, database_url, urls, count, workers):
    directory = bench.fresh_dir(f"scale-{workers}")
    storage = os.path.join(directory, "storage")
    _, out = run([bench.pixbench, "submit", "--database-url", database_url, "--source", f"urls:{urls}",
                  "--max-images", str(count)], log_name=f"scale-submit-{workers}")
    job = last_json(out)["job"]
    env = dict(os.environ, PIXCRAWL_STORAGE_URL=storage)
    settle()
    command = [bench.pixcrawl, "worker", "--once", "--job", str(job), "--no-exports", "--no-notify",
               "--database-url", database_url, "--allow-network", "127.0.0.1/32"]
    start = time.perf_counter()
    os.makedirs(os.path.join(WORK, "logs"), exist_ok=True)
    logs = [open(os.path.join(WORK, "logs", f"scale-{workers}-worker{index}.log"), "w") for index in range(workers)]
    processes = [subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=handle,
                                  stderr=subprocess.STDOUT) for handle in logs]
    codes = [process.wait() for process in processes]
    for handle in logs:
        handle.close()
    seconds = time.perf_counter() - start
    if any(codes):
        raise BenchFailure(f"a worker of the {workers}-process run exited {codes}")
    valid = bench.job_count(database_url, job)["valid"]
    if valid < count:
        raise BenchFailure(f"{workers}-process run: {valid} of {count} valid")
    return valid / seconds


# MARK: - Report

def command_arguments(arguments):
    """The command line as given, directories named by their option only (the report names no local paths)."""
    shown = []
    for index, argument in enumerate(arguments):
        previous = arguments[index - 1] if index else ""
        shown.append("DIR" if previous in ("--bin-dir", "--baseline-bin-dir", "--output") else argument)
    return shown


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(bench, args, runs, corpus_info, rss_info, rss_images, elapsed):
    medians = {key: median(values) for key, values in bench.samples.items()}
    m = medians.get
    ratios = {
        "default_vs_img2dataset": ratio(m("pixcrawl_default_sqlite"), m("img2dataset_default")),
        "default_vs_opencv_full_decode": ratio(m("pixcrawl_default_sqlite"), m("decode_opencv_full")),
        "default_vs_our_entropy_decode": ratio(m("pixcrawl_default_sqlite"), m("decode_ours_entropy")),
        "pixels_vs_our_full_decode": ratio(m("pixcrawl_pixels_sqlite"), m("decode_ours_full")),
        "header_vs_img2dataset_noreencode": ratio(m("pixcrawl_header_sqlite"), m("img2dataset_noreencode")),
        "postgres_vs_sqlite_default": ratio(m("pixcrawl_default_postgres"), m("pixcrawl_default_sqlite")),
        "default_vs_server_ceiling": ratio(m("pixcrawl_default_sqlite"), m("server_ceiling_images_per_s")),
        "our_full_decode_vs_opencv_full": ratio(m("decode_ours_full"), m("decode_opencv_full")),
        "our_entropy_decode_vs_opencv_reduced8": ratio(m("decode_ours_entropy"), m("decode_opencv_reduced8")),
        "export_zip_vs_tar": ratio(m("export_zip_mb_s"), m("tar_cf_mb_s")),
        "export_tar_vs_tar": ratio(m("export_tar_mb_s"), m("tar_cf_mb_s")),
        "export_webdataset_vs_tar": ratio(m("export_webdataset_mb_s"), m("tar_cf_mb_s")),
        "img2dataset_cpu_per_image_vs_default": ratio(m("cpu_ms_per_image_i2d-default"),
                                                      m("cpu_ms_per_image_default-sqlite")),
        "resize_crawl_export_vs_img2dataset": ratio(m("pixcrawl_crawl_resize_256"), m("img2dataset_center_crop_256")),
        "resize_export_vs_img2dataset": ratio(m("export_resized_images_per_s"), m("img2dataset_center_crop_256")),
        "hosts_vs_baseline": ratio(m("pixcrawl_hosts"), m("baseline_hosts")),
        "workers_2_vs_1": ratio(m("workers_2_postgres"), m("workers_1_postgres")),
        "workers_4_vs_1": ratio(m("workers_4_postgres"), m("workers_1_postgres")),
        "lists_vs_sha256sum": ratio(m("lists_rows_per_s"), m("lists_sha256sum_rows_per_s")),
    }
    cpu_ratios = {
        "default_vs_img2dataset": ratio(m("cpu_ms_per_image_i2d-default"), m("cpu_ms_per_image_default-sqlite")),
        "default_vs_opencv_full_decode": ratio(m("cpu_ms_per_image_opencv_full"),
                                               m("cpu_ms_per_image_default-sqlite")),
        "pixels_vs_our_full_decode": ratio(m("cpu_ms_per_image_decode_full"), m("cpu_ms_per_image_pixels-sqlite")),
        "header_vs_img2dataset_noreencode": ratio(m("cpu_ms_per_image_i2d-noreencode"),
                                                  m("cpu_ms_per_image_header-sqlite")),
        "export_zip_vs_tar": ratio(m("cpu_s_per_gb_tar"), m("cpu_s_per_gb_export_zip")),
        "export_tar_vs_tar": ratio(m("cpu_s_per_gb_tar"), m("cpu_s_per_gb_export_tar")),
        "export_webdataset_vs_tar": ratio(m("cpu_s_per_gb_tar"), m("cpu_s_per_gb_export_webdataset")),
        "resize_crawl_export_vs_img2dataset": ratio(m("cpu_ms_per_image_i2d-resize"),
                                                    m("cpu_ms_per_image_crawl_resize_export")),
        "resize_export_vs_img2dataset": ratio(m("cpu_ms_per_image_i2d-resize"), m("cpu_ms_per_image_export_resized")),
        "hosts_vs_baseline": ratio(m("cpu_ms_per_image_hosts-baseline"), m("cpu_ms_per_image_hosts")),
    }
    absolute = {"worker_rss_mb": m("worker_rss_mb"), "export_rss_mb": m("export_rss_mb"),
                "postgres_claim_complete_32": m("queue_postgres_32"), "resize_min_psnr_db": m("resize_min_psnr_db"),
                "lists_rows_per_s": m("lists_rows_per_s"), "lists_rss_mb": m("lists_rss_mb")}
    targets = {}
    for key, goal in TARGETS.items():
        value = ratios.get(key) if key in ratios else absolute.get(key)
        if value is None:
            met = None
        elif key.endswith("_rss_mb"):
            met = value < goal
        else:
            met = value >= goal
        cpu_value = cpu_ratios.get(key)
        targets[key] = {"value": value, "target": goal, "met": met, "cpu_value": cpu_value,
                        "cpu_met": None if cpu_value is None else cpu_value >= goal}
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        cpu = ""
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": "bench/run " + " ".join(command_arguments(sys.argv[1:])),
        "machine": {"cores": os.cpu_count(), "cpu": cpu, "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                                                               * os.sysconf("SC_PHYS_PAGES") / 2**30)},
        "config": {"images": args.images, "seed": args.seed, "runs": runs, "rss_images": rss_images,
                   "img2dataset": IMG2DATASET_VERSION if bench.venv_python else None,
                   "opencv": OPENCV_VERSION if bench.venv_python else None,
                   "img2dataset_options": "--processes_count 2 --thread_count 32 --number_sample_per_shard N/8",
                   "pixcrawl_options": "crawl defaults (--workers 2 --concurrency 8), --allow-network 127.0.0.1/32",
                   "smoke": args.smoke, "quick": args.quick,
                   "hosts": bench.extra.get("hosts"), "baseline": bench.extra.get("baseline_version")},
        "corpus": corpus_info, "rss_corpus": rss_info,
        "medians": medians, "samples": bench.samples, "ratios": ratios, "cpu_ratios": cpu_ratios, "absolute": absolute, "targets": targets,
        "extra": bench.extra, "errors": bench.errors, "elapsed_seconds": elapsed,
    }


def fmt(value, digits=2):
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def formats_text(report):
    formats = report.get("extra", {}).get("corpus_formats") or {}
    total = sum(formats.values())
    return ", ".join(f"{name} {count} ({count / total:.0%})" for name, count in sorted(formats.items())) or "–"


def load_text(report):
    load = report.get("extra", {}).get("load_average")
    if not load:
        return "–"
    return f"{load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end"


def markdown(report):
    m = report["medians"]
    r = report["ratios"]
    t = report["targets"]
    cores = report["machine"]["cores"]

    c = report.get("cpu_ratios", {})
    psnr = report.get("extra", {}).get("resize_psnr") or {}

    def status(key, field="met"):
        entry = t.get(key)
        if not entry or entry.get(field) is None:
            return "–"
        return "met" if entry[field] else "**missed**"

    def row(label, key, target):
        return (f"| {label} | {fmt(r.get(key))} | {status(key)} | {fmt(c.get(key))} | {status(key, 'cpu_met')} "
                f"| {target} |")

    corpus = (f"corpus {report['config']['images']} images (seed {report['config']['seed']}, mean "
              f"{report['corpus']['mean_bytes'] / 1000:.0f} KB)" if report.get("corpus") else "no image corpus")
    lines = [
        f"Cores: {cores} ({report['machine']['cpu']}); {corpus}; "
        f"median of {report['config']['runs']} run(s); load average {load_text(report)}.",
        "",
        "Wall-clock ratios are images/s (or MB/s) measured in the same alternating rounds. CPU-time ratios compare "
        "user+system CPU seconds per image (per GB for exports) of the same runs: the work each side does, "
        "independent of what else the machine runs.",
        "",
        "| ratio | wall-clock | status | CPU-time | status | target |",
        "|---|---|---|---|---|---|",
        row("default validation ÷ img2dataset default", "default_vs_img2dataset", "≥ 2.0"),
        row("default validation ÷ OpenCV full decode only", "default_vs_opencv_full_decode", "≥ 1.0"),
        row("`--validate pixels` ÷ our full-decode limit", "pixels_vs_our_full_decode", "≥ 0.9"),
        row("`--validate header` ÷ img2dataset no re-encoding", "header_vs_img2dataset_noreencode", "≥ 1.5"),
        row("export zip ÷ `tar cf`", "export_zip_vs_tar", "≥ 0.8"),
        row("export tar ÷ `tar cf`", "export_tar_vs_tar", "≥ 0.8"),
        row("export WebDataset ÷ `tar cf`", "export_webdataset_vs_tar", "≥ 0.8"),
        row("crawl + center_crop 256 export ÷ img2dataset center_crop 256", "resize_crawl_export_vs_img2dataset",
            "≥ 2.0"),
        row("center_crop 256 export alone ÷ img2dataset center_crop 256", "resize_export_vs_img2dataset", "≥ 3.0"),
        row(f"{report['config'].get('hosts') or HOSTS} hosts: this build ÷ the baseline build", "hosts_vs_baseline",
            "≥ 0.9"),
        f"| center_crop 256 PSNR vs OpenCV `INTER_AREA`, minimum (dB) | {fmt(psnr.get('min_psnr_db'))} | "
        f"{status('resize_min_psnr_db')} | | | ≥ 35 |",
        f"| worker peak RSS, {report['config']['rss_images']}-image job (MB) | {fmt(m.get('worker_rss_mb'), 0)} | "
        f"{status('worker_rss_mb')} | | | < 150 |",
        f"| export peak RSS, {report['config']['rss_images']} images (MB) | {fmt(m.get('export_rss_mb'), 0)} | "
        f"{status('export_rss_mb')} | | | < 100 |",
        f"| PostgreSQL claim+complete/s, 32 claimers | {fmt(m.get('queue_postgres_32'))} | "
        f"{status('postgres_claim_complete_32')} | | | ≥ 5,000 |",
        f"| URL list staged + planned, {report['extra'].get('lists', {}).get('rows', 0):,} rows (rows/s) | "
        f"{fmt(m.get('lists_rows_per_s'))} | {status('lists_rows_per_s')} | | | ≥ 1,000,000 |",
        f"| URL list staging + planning peak RSS (MB) | {fmt(m.get('lists_rss_mb'), 0)} | {status('lists_rss_mb')} "
        f"| | | < 150 |",
        "",
        "| other ratio | value |",
        "|---|---|",
        f"| default validation ÷ our 1/8 decode limit | {fmt(r['default_vs_our_entropy_decode'])} |",
        f"| default validation ÷ server ceiling (curl) | {fmt(r['default_vs_server_ceiling'])} |",
        f"| PostgreSQL ÷ SQLite (default validation) | {fmt(r['postgres_vs_sqlite_default'])} |",
        f"| our full decode ÷ OpenCV full decode | {fmt(r['our_full_decode_vs_opencv_full'])} |",
        f"| our 1/8 decode ÷ OpenCV IMREAD_REDUCED_COLOR_8 | {fmt(r['our_entropy_decode_vs_opencv_reduced8'])} |",
        f"| 2 worker processes ÷ 1 (PostgreSQL job) | {fmt(r['workers_2_vs_1'])} |",
        f"| 4 worker processes ÷ 1 (PostgreSQL job) | {fmt(r['workers_4_vs_1'])} |",
        f"| center_crop 256 PSNR vs OpenCV `INTER_AREA`, mean (dB) over {psnr.get('compared', 0)} images "
        f"| {fmt(psnr.get('mean_psnr_db'))} |",
        f"| corpus formats | {formats_text(report)} |",
        f"| URL list staging + planning ÷ `sha256sum` of the list (rows/s) | {fmt(r.get('lists_vs_sha256sum'))} |",
        "",
        "| measurement | median |",
        "|---|---|",
    ]
    units = [("server_ceiling_images_per_s", "nginx ceiling, curl --parallel 32 (img/s)"),
             ("pixcrawl_default_sqlite", "PixCrawler default validation, SQLite (img/s)"),
             ("pixcrawl_header_sqlite", "PixCrawler --validate header, SQLite (img/s)"),
             ("pixcrawl_pixels_sqlite", "PixCrawler --validate pixels, SQLite (img/s)"),
             ("pixcrawl_default_postgres", "PixCrawler default validation, PostgreSQL (img/s)"),
             ("img2dataset_default", "img2dataset default re-encoding (img/s)"),
             ("img2dataset_noreencode", "img2dataset --disable_all_reencoding True (img/s)"),
             ("cpu_ms_per_image_default-sqlite", "PixCrawler default validation: CPU ms per image"),
             ("cpu_ms_per_image_i2d-default", "img2dataset default: CPU ms per image"),
             ("cpu_ms_per_image_i2d-noreencode", "img2dataset no re-encoding: CPU ms per image"),
             ("cpu_ms_per_image_header-sqlite", "PixCrawler --validate header: CPU ms per image"),
             ("cpu_ms_per_image_pixels-sqlite", "PixCrawler --validate pixels: CPU ms per image"),
             ("cpu_ms_per_image_opencv_full", "OpenCV full decode: CPU ms per image"),
             ("cpu_ms_per_image_opencv_reduced8", "OpenCV 1/8 decode: CPU ms per image"),
             ("cpu_s_per_gb_export_zip", "export zip: CPU s per GB"),
             ("cpu_s_per_gb_export_tar", "export tar: CPU s per GB"),
             ("cpu_s_per_gb_export_webdataset", "export WebDataset: CPU s per GB"),
             ("cpu_s_per_gb_tar", "tar cf: CPU s per GB"),
             ("cpu_ms_per_image_decode_entropy", "our 1/8 decode: CPU ms per image"),
             ("cpu_ms_per_image_decode_full", "our full decode: CPU ms per image"),
             ("decode_ours_entropy", "our decode, 1/8 entropy-complete, all cores (img/s)"),
             ("decode_ours_full", "our decode, full size, all cores (img/s)"),
             ("decode_opencv_full", "OpenCV cv2.imread, 2 processes (img/s)"),
             ("decode_opencv_reduced8", "OpenCV IMREAD_REDUCED_COLOR_8, 2 processes (img/s)"),
             ("queue_sqlite_1", "SQLite claim+complete/s, 1 claimer"),
             ("queue_sqlite_8", "SQLite claim+complete/s, 8 claimers"),
             ("queue_sqlite_32", "SQLite claim+complete/s, 32 claimers"),
             ("queue_postgres_1", "PostgreSQL claim+complete/s, 1 claimer"),
             ("queue_postgres_8", "PostgreSQL claim+complete/s, 8 claimers"),
             ("queue_postgres_32", "PostgreSQL claim+complete/s, 32 claimers"),
             ("inserts_sqlite", "SQLite image rows/s (batches of 500)"),
             ("inserts_postgres", "PostgreSQL image rows/s (batches of 500)"),
             ("export_zip_mb_s", "export zip (MB/s)"),
             ("export_tar_mb_s", "export tar (MB/s)"),
             ("export_webdataset_mb_s", "export WebDataset (MB/s)"),
             ("tar_cf_mb_s", "tar cf of the same files (MB/s)"),
             ("worker_rss_mb", "worker peak RSS (MB)"),
             ("export_rss_mb", "export peak RSS (MB)"),
             ("img2dataset_center_crop_256", "img2dataset center_crop 256, download + resize (img/s)"),
             ("pixcrawl_crawl_resize_256", "PixCrawler crawl + center_crop 256 export (img/s)"),
             ("export_resized_images_per_s", "PixCrawler center_crop 256 export alone (img/s)"),
             ("cpu_ms_per_image_i2d-resize", "img2dataset center_crop 256: CPU ms per image"),
             ("cpu_ms_per_image_crawl_resize_export", "PixCrawler crawl + center_crop 256 export: CPU ms per image"),
             ("cpu_ms_per_image_export_resized", "PixCrawler center_crop 256 export: CPU ms per image"),
             ("pixcrawl_hosts", "PixCrawler default validation over the hosts, SQLite (img/s)"),
             ("baseline_hosts", "baseline build, the same crawl over the hosts (img/s)"),
             ("cpu_ms_per_image_hosts", "PixCrawler over the hosts: CPU ms per image"),
             ("cpu_ms_per_image_hosts-baseline", "baseline build over the hosts: CPU ms per image"),
             ("workers_1_postgres", "1 pixcrawl worker process, PostgreSQL job (img/s)"),
             ("workers_2_postgres", "2 pixcrawl worker processes (img/s)"),
             ("workers_4_postgres", "4 pixcrawl worker processes (img/s)"),
             ("lists_rows_per_s", "URL list staged + planned by `pixcrawl crawl --detach` (rows/s)"),
             ("lists_rows_per_cpu_s", "URL list staged + planned, per CPU second (rows)"),
             ("lists_sha256sum_rows_per_s", "sha256sum of the same list (rows/s)"),
             ("lists_rss_mb", "URL list staging + planning peak RSS (MB)")]
    for key, label in units:
        if m.get(key) is not None:
            lines.append(f"| {label} | {fmt(m[key])} |")
    return "\n".join(lines)


def write_results_md(report, table):
    path = os.path.join(BENCH, "RESULTS.md")
    notes = ""
    if os.path.exists(path):
        with open(path) as handle:
            text = handle.read()
        marker = "<!-- notes -->"
        if marker in text:
            notes = text[text.index(marker):]
    if not notes:
        notes = "<!-- notes -->\n## Notes\n"
    with open(path, "w") as handle:
        handle.write("# Benchmark results\n\n")
        handle.write(f"Latest run: {report['date']}, {report['elapsed_seconds'] / 60:.1f} min, produced by\n\n")
        handle.write(f"```sh\n{report['command']}\n```\n\n")
        handle.write(table + "\n\n")
        handle.write(notes)


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        log(f"failed: {failure}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
