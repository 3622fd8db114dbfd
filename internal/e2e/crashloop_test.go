package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

// buildCalmctl builds cmd/calmctl into a temporary directory.
func buildCalmctl(t *testing.T) string {
	t.Helper()
	goBin := awstest.GoTool()
	out := filepath.Join(t.TempDir(), "calmctl")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/calm-collector/calm-collector/cmd/calmctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build calmctl: %v\n%s", err, b)
	}
	return out
}

const (
	// crashKills are the kills of the whole test, shared out among the readings (sim.Readings).
	crashKills    = 20
	crashRes      = time.Minute
	crashLookback = 12 * time.Hour
	// crashSlice is what one run catches up while kills happen (--max-catchup): every run is
	// short and alike, so the kills land all over a run and the catch-up outlasts them.
	crashSlice    = 30 * time.Minute
	crashLeaseTTL = 500 * time.Millisecond
)

var crashMonitors = []string{"hm", "jam"}

// TestCrashLoop runs calmctl's scheduled catch-up of crashLookback in 1-minute windows, kills it
// with SIGKILL at random moments (seeded: CALM_CRASH_SEED repeats a run) and resumes each time,
// against the default and the strict simulator (crashKills kills in all). The output file must
// end up holding every point the simulator serves up to the final checkpoints, with duplicates
// only as whole re-delivered windows; the S3 sink (on moto) must hold every point exactly once,
// its keys being deterministic.
func TestCrashLoop(t *testing.T) {
	calmctl := buildCalmctl(t)
	readings := sim.Readings()
	for _, v := range readings {
		t.Run(v.Name, func(t *testing.T) { crashLoop(t, calmctl, v, crashKills/len(readings)) })
	}
}

// crashLoop is TestCrashLoop against one reading with kills kills.
func crashLoop(t *testing.T, calmctl string, v sim.Reading, kills int) {
	s := sim.StartTest(t, v.With(sim.Config{}))
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret.json")
	if err := os.WriteFile(secretFile, s.ConnectorJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir, outFile := filepath.Join(dir, "state"), filepath.Join(dir, "records.ndjson")
	store, err := state.NewFileStore(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	// Pin where the catch-up starts, so that the expected range is exact.
	from := time.Now().UTC().Add(-collect.DefaultConfig().Lag).Truncate(crashRes).Add(-crashLookback)
	for _, m := range crashMonitors {
		if err := store.Put(context.Background(), state.Checkpoint{Tenant: "sim", Monitor: m, Next: from}); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"collect", "--secret-file", secretFile, "--state", stateDir, "--out", outFile,
		"--monitors", strings.Join(crashMonitors, ","), "--resolution", crashRes.String(), "--span", "15m",
		"--lookback", crashLookback.String(), "--lease-ttl", crashLeaseTTL.String()}
	env := os.Environ()
	var s3c *s3.Client
	bucket := "crash-loop-" + v.Name
	if moto := motoOrSkip(t); moto != nil {
		s3c = moto.S3Client()
		if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("create bucket: %v", err)
		}
		args = append(args, "--sink", "s3://"+bucket+"/records")
		env = append(env, "CALM_ENDPOINT_URL="+moto.Endpoint(), "AWS_ACCESS_KEY_ID="+awstest.AccessKey,
			"AWS_SECRET_ACCESS_KEY="+awstest.SecretKey, "AWS_REGION="+awstest.Region, "AWS_EC2_METADATA_DISABLED=true")
	}

	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CALM_CRASH_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CALM_CRASH_SEED: %v", err)
		}
	}
	t.Logf("crash loop seed %d (CALM_CRASH_SEED=%d repeats it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	start := func(maxCatchUp time.Duration) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(calmctl, append(args, "--max-catchup", maxCatchUp.String())...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}
	killed, finished := 0, 0
	for run := 0; killed < kills; run++ {
		if run >= 4*kills {
			t.Fatalf("only %d killed in %d runs: the runs end before their kill; make them longer", killed, run)
		}
		cmd, stderr := start(crashSlice)
		delay := time.Duration(20+rng.IntN(400)) * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			finished++
			if err != nil {
				t.Fatalf("run %d failed: %v\n%s", run, err, stderr)
			}
		case <-time.After(delay):
			_ = cmd.Process.Kill() // SIGKILL; a run that ended this instant fails the kill harmlessly
			<-done                 //nolint:errcheck // the killed run's error is the kill
			killed++
			// A killed run leaves its lease behind: the next run may take it once it has expired.
			time.Sleep(crashLeaseTTL + 50*time.Millisecond)
		}
	}
	// Resume: one run catches up everything that is left.
	for attempt := 0; ; attempt++ {
		cmd, stderr := start(2 * crashLookback)
		err := cmd.Wait()
		if err == nil {
			t.Logf("final run:\n%s", stderr)
			break
		}
		if attempt >= 3 {
			t.Fatalf("resuming after %d killed failed: %v\n%s", killed, err, stderr)
		}
		time.Sleep(crashLeaseTTL + 50*time.Millisecond)
	}
	t.Logf("%d killed, %d runs finished on their own", killed, finished)

	// What the simulator serves up to each final checkpoint.
	want := map[string]string{} // id → monitor
	windowOf := map[string]string{}
	for _, m := range crashMonitors {
		cp, ok, err := store.Get(context.Background(), "sim", m)
		if err != nil || !ok || cp.LastError != "" {
			t.Fatalf("%s: final checkpoint %+v %v %v", m, cp, ok, err)
		}
		if !cp.Next.After(from.Add(crashLookback - crashRes)) {
			t.Fatalf("%s: the final checkpoint %s did not reach the end of the catch-up", m, cp.Next)
		}
		for _, p := range s.Expected(m, from, cp.Next, crashRes) {
			id := record.PointID("sim", m, p.Measure, p.Merged(), p.Time)
			want[id] = m
			windowOf[id] = m + " " + p.Time.Truncate(crashRes).Format(time.RFC3339)
		}
	}

	// The file: every point, duplicates only in re-delivered windows. A kill in the middle of a
	// batch's write leaves the lines written so far (the kernel cuts a write short on SIGKILL; the
	// torn last line is cut when the file is opened again); the window was not checkpointed and is
	// delivered again whole, so such a window holds some of its points twice. A window counts as
	// re-delivered once per extra copy of its most duplicated point.
	count, torn := readNDJSON(t, outFile)
	if torn > 0 {
		t.Errorf("the output file has %d torn lines (a killed write followed by an append)", torn)
	}
	checkUnion(t, "file", count, want)
	perWindow := map[string][]int{}
	for id, n := range count {
		perWindow[windowOf[id]] = append(perWindow[windowOf[id]], n)
	}
	redelivered, partly := 0, 0
	for _, ns := range perWindow {
		most := slices.Max(ns)
		redelivered += most - 1
		if slices.Min(ns) != most {
			partly++
		}
	}
	t.Logf("file: %d points, %d windows re-delivered (%d of them after a write cut short by a kill)", len(count), redelivered, partly)
	if redelivered > (killed+1)*len(crashMonitors) {
		t.Errorf("%d windows re-delivered after %d killed: more than one per kill and monitor", redelivered, killed)
	}
	if partly > killed {
		t.Errorf("%d windows partly duplicated after %d killed: at most one write can be cut short per kill", partly, killed)
	}

	if s3c != nil {
		count := readS3(t, s3c, bucket, "records/")
		checkUnion(t, "s3", count, want)
		dups := 0
		for _, n := range count {
			if n > 1 {
				dups++
			}
		}
		if dups > 0 {
			t.Errorf("s3: %d points stored more than once", dups)
		}
		t.Logf("s3: %d points, no duplicates", len(count))
	}
}

// motoOrSkip returns the shared moto_server, or nil when it is missing and CI is not set (the
// file part of a test still runs); awstest.Moto fails the test under CI=true.
func motoOrSkip(t *testing.T) *awstest.MotoServer {
	if _, err := exec.LookPath("moto_server"); err != nil && !testkit.CI() {
		testkit.LeftOut(t, testkit.MotoServer, "the S3 sink part")
		return nil
	}
	return awstest.Moto(t)
}

func checkUnion(t *testing.T, where string, count map[string]int, want map[string]string) {
	t.Helper()
	missing := 0
	for id := range want {
		if count[id] == 0 {
			missing++
		}
	}
	extra := 0
	for id := range count {
		if _, ok := want[id]; !ok {
			extra++
		}
	}
	if missing > 0 || extra > 0 {
		t.Errorf("%s: %d of %d expected points missing, %d points not served by the simulator", where, missing, len(want), extra)
	}
}

// readNDJSON counts the ids of the records in an NDJSON file; torn counts lines that do not decode.
func readNDJSON(t *testing.T, path string) (map[string]int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count, torn := map[string]int{}, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			torn++
			continue
		}
		count[r.ID]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return count, torn
}

// readS3 counts the ids of every record under prefix in the bucket (gzip NDJSON objects).
func readS3(t *testing.T, c *s3.Client, bucket, prefix string) map[string]int {
	t.Helper()
	ctx := context.Background()
	count := map[string]int{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3: %v", err)
		}
		for _, o := range page.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key},
				func(o *s3.Options) { o.Logger = logging.Nop{} }) // moto sends no checksum: no warning per object
			if err != nil {
				t.Fatalf("get %s: %v", *o.Key, err)
			}
			zr, err := gzip.NewReader(obj.Body)
			if err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
			sc := bufio.NewScanner(zr)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				r, err := record.Decode(sc.Bytes())
				if err != nil {
					t.Errorf("%s: bad line: %v", *o.Key, err)
					continue
				}
				count[r.ID]++
			}
			if err := errors.Join(sc.Err(), obj.Body.Close()); err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
		}
	}
	return count
}
