package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The deployment tests read deploy/kubernetes as kubectl would and check that
// its parts fit together: the Secret the kustomization makes is the one the
// pod mounts, the config in the ConfigMap reads the files it holds, the
// probes work behind basic auth, the ports agree.

const k8sDir = "deploy/kubernetes"

// k8sDoc reads one YAML manifest of deploy/kubernetes into a generic map.
func k8sDoc(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k8sDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// dig walks a generic YAML tree along keys (strings) and list indexes (ints).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %q in %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("no item %d in %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}

// k8sContainer returns the exporter's container and the pod spec.
func k8sContainer(t *testing.T) (container, pod map[string]any) {
	t.Helper()
	pod = dig(t, k8sDoc(t, "deployment.yaml"), "spec", "template", "spec").(map[string]any)
	return dig(t, pod, "containers", 0).(map[string]any), pod
}

func TestKustomizationMakesWhatThePodNeeds(t *testing.T) {
	k := k8sDoc(t, "kustomization.yaml")
	if k["namespace"] != "monitoring" {
		t.Errorf("kustomization namespace %v, want monitoring", k["namespace"])
	}
	resources := dig(t, k, "resources").([]any)
	for _, r := range resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r.(string))); err != nil {
			t.Errorf("resource %v: %v", r, err)
		}
	}
	if !slices.Contains(resources, any("namespace.yaml")) || dig(t, k8sDoc(t, "namespace.yaml"), "metadata", "name") != "monitoring" {
		t.Errorf("the kustomization does not create the namespace monitoring")
	}

	// The generated Secret is the one the pod mounts, with the files the
	// ConfigMap's config names.
	gen := dig(t, k, "secretGenerator", 0).(map[string]any)
	_, pod := k8sContainer(t)
	var secretName, mountPath string
	for _, v := range dig(t, pod, "volumes").([]any) {
		if s, ok := v.(map[string]any)["secret"].(map[string]any); ok && v.(map[string]any)["name"] == "credentials" {
			secretName = s["secretName"].(string)
		}
	}
	container, _ := k8sContainer(t)
	for _, m := range dig(t, container, "volumeMounts").([]any) {
		if m.(map[string]any)["name"] == "credentials" {
			mountPath = m.(map[string]any)["mountPath"].(string)
		}
	}
	if gen["name"] != secretName || secretName == "" {
		t.Errorf("the kustomization generates Secret %v, the pod mounts %q", gen["name"], secretName)
	}
	cfg := dig(t, k8sDoc(t, "configmap.yaml"), "data", "vbs.yml").(string)
	for _, f := range dig(t, gen, "files").([]any) {
		key, file, _ := strings.Cut(f.(string), "=")
		if !strings.HasPrefix(file, "secrets/") {
			t.Errorf("secretGenerator file %s is not under secrets/ (git-ignored)", file)
		}
		if !strings.Contains(cfg, "_file: "+mountPath+"/"+key+"\n") {
			t.Errorf("the ConfigMap's config does not read %s/%s", mountPath, key)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(k8sDir, "secrets", ".gitignore"))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(regexp.MustCompile(`(?m)^#.*\n`).ReplaceAllString(string(ignore), "")), "*\n") {
		t.Errorf("deploy/kubernetes/secrets/.gitignore does not ignore everything (%v):\n%s", err, ignore)
	}
}

func TestConfigMapConfigIsValid(t *testing.T) {
	cfg := dig(t, k8sDoc(t, "configmap.yaml"), "data", "vbs.yml").(string)
	dir := t.TempDir()
	for _, key := range []string{"access_key", "secret_key"} {
		if err := os.WriteFile(filepath.Join(dir, key), []byte("value-of-"+key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "vbs.yml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(cfg, "/run/secrets/vbs/", dir+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, "--config.check", "--config.file="+file); code != 0 {
		t.Errorf("--config.check on the ConfigMap's vbs.yml: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestDeploymentProbesWorkBehindBasicAuth(t *testing.T) {
	container, _ := k8sContainer(t)
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		p, ok := container[probe].(map[string]any)
		if !ok {
			t.Errorf("no %s", probe)
			continue
		}
		// An httpGet probe gets 401 once --web.config.file enables basic
		// auth; a TCP probe works with or without it.
		if _, http := p["httpGet"]; http || dig(t, p, "tcpSocket", "port") != "http" {
			t.Errorf("%s = %v, want tcpSocket on the port named http", probe, p)
		}
	}
	// The port agrees between args, containerPort and the Service.
	port := dig(t, container, "ports", 0, "containerPort").(int)
	if !slices.Contains(dig(t, container, "args").([]any), any("--web.listen-address=:"+strconv.Itoa(port))) {
		t.Errorf("args %v do not listen on containerPort %d", container["args"], port)
	}
	if sp := dig(t, k8sDoc(t, "service.yaml"), "spec", "ports", 0, "port").(int); sp != port || ":"+strconv.Itoa(port) != defaultPort {
		t.Errorf("Service port %d, containerPort %d, default %s: want all equal", sp, port, defaultPort)
	}
}

func TestDeploymentMemoryCommentAgreesWithREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\*\*([\d.]+) bytes per cached job\*\*`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README's Performance section states no bytes per cached job")
	}
	perJob, _ := strconv.ParseFloat(string(m[1]), 64)
	dep, err := os.ReadFile(filepath.Join(k8sDir, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := regexp.MustCompile(`about (\d+) bytes per job[^(]*\(README, Performance: ([\d,]+) jobs = (\d+) MiB`).FindSubmatch(dep)
	if c == nil {
		t.Fatal("deployment.yaml's resources comment does not cite the README's bytes per job")
	}
	stated, _ := strconv.Atoi(string(c[1]))
	jobs, _ := strconv.Atoi(strings.ReplaceAll(string(c[2]), ",", ""))
	mib, _ := strconv.Atoi(string(c[3]))
	if stated != int(perJob+0.5) || mib != int(perJob*float64(jobs)/(1<<20)+0.5) {
		t.Errorf("deployment.yaml says %d bytes per job and %d jobs = %d MiB; the README measured %.1f bytes per job (%d jobs = %.1f MiB)",
			stated, jobs, mib, perJob, jobs, perJob*float64(jobs)/(1<<20))
	}
}

// TestKustomizeBuild builds the kustomization with kubectl when it is
// installed: with the secret files filled in it yields the namespace, and a
// Secret whose generated name the Deployment uses; without them it fails
// naming the missing file.
func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("SKIPPED: kubectl is not on PATH, so the kustomization was not built (TestKustomizationMakesWhatThePodNeeds still checks its parts)")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(k8sDir)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"access_key", "secret_key"} {
		os.Remove(filepath.Join(dir, "secrets", f))
	}
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "secrets/access_key: no such file or directory") {
		t.Errorf("kubectl kustomize without the secret files: %v\n%s\nwant an error naming secrets/access_key", err, out)
	}
	for _, f := range []string{"access_key", "secret_key"} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err = exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	kinds := map[string]map[string]any{}
	for {
		var doc map[string]any
		if dec.Decode(&doc) != nil {
			break
		}
		kinds[doc["kind"].(string)] = doc
	}
	if dig(t, kinds["Namespace"], "metadata", "name") != "monitoring" {
		t.Errorf("no Namespace monitoring in the build")
	}
	secret := dig(t, kinds["Secret"], "metadata", "name").(string)
	data := dig(t, kinds["Secret"], "data").(map[string]any)
	if !strings.HasPrefix(secret, "vbs-exporter-credentials-") || data["access_key"] == nil || data["secret_key"] == nil {
		t.Errorf("Secret %s with keys %v", secret, data)
	}
	found := false
	for _, v := range dig(t, kinds["Deployment"], "spec", "template", "spec", "volumes").([]any) {
		if s, ok := v.(map[string]any)["secret"].(map[string]any); ok && s["secretName"] == secret {
			found = true
		}
	}
	if !found {
		t.Errorf("the Deployment does not mount the generated Secret %s", secret)
	}
}

// TestDockerfileBuildArgsReachLdflags runs the Dockerfile's build command
// with `make -n`, as `docker build --build-arg ...` would run it, and checks
// that the build arguments become the version ldflags of the binary.
func TestDockerfileBuildArgsReachLdflags(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("SKIPPED: make is not on PATH, so the Dockerfile's build command was not run")
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// The RUN instruction that calls make, continuation lines joined, up to
	// the first "&&".
	text := strings.ReplaceAll(string(df), "\\\n", " ")
	m := regexp.MustCompile(`(?m)^RUN (make build .*?)(?:&&.*)?$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the Dockerfile has no `RUN make build ...`")
	}
	for _, arg := range []string{"VERSION", "REVISION", "BRANCH", "BUILD_DATE"} {
		if !regexp.MustCompile(`(?m)^ARG ` + arg + `=`).Match(df) {
			t.Errorf("the Dockerfile declares no ARG %s", arg)
		}
	}
	ignore, _ := os.ReadFile(".dockerignore")
	for _, need := range []string{"Makefile", "VERSION"} {
		if slices.Contains(strings.Fields(string(ignore)), need) {
			t.Errorf(".dockerignore leaves %s out of the build context", need)
		}
	}
	version, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	build := func(env ...string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", strings.Replace(m[1], "make", makeBin+" -n", 1))
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	const x = "-X github.com/prometheus/common/version."
	out := build("VERSION=", "REVISION=abc1234", "BRANCH=release-1", "BUILD_DATE=20261202-01:02:03")
	for _, want := range []string{x + "Version=" + strings.TrimSpace(string(version)) + " ", x + "Revision=abc1234 ",
		x + "Branch=release-1 ", x + "BuildDate=20261202-01:02:03'"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Dockerfile's build does not pass %q:\n%s", want, out)
		}
	}
	// Without BUILD_DATE the image still gets the date of its build.
	out = build("VERSION=7.7.7", "REVISION=abc1234", "BRANCH=main", "BUILD_DATE=")
	if !regexp.MustCompile(`Version=7\.7\.7 .*BuildDate=\d{8}-\d\d:\d\d:\d\d'`).MatchString(out) {
		t.Errorf("without BUILD_DATE: %s", out)
	}
}
