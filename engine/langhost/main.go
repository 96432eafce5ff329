// Command pulumi-language-python is rcs-testers' stand-in for Pulumi's Python language host.
//
// Pulumi's own host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// is not served by the Go module proxy this project builds from, neither by tag nor by commit.
// This host implements the part of the LanguageRuntime gRPC service that `pulumi preview`,
// `up`, `refresh` and `destroy` use for a Python program: it runs the program with the
// project's virtualenv through the SDK's own pulumi-language-python-exec script, exactly as
// the official host does. Calls it does not serve (templates, code generation, packing,
// Python plugins) answer Unimplemented with a message that says to install Pulumi.
//
// Where the official Pulumi CLI is installed, scripts/bootstrap-engine uses its host instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// bailExitCode is what pulumi-language-python-exec exits with after it has already shown
// the user an actionable error through the engine; the host must not add another one.
const bailExitCode = 32

// configLoader runs before pulumi-language-python-exec: it moves the stack config from the
// private file (argv[1]) into the process environment, deletes the file, and runs the exec
// script (argv[2]) with the remaining arguments as if it had been started directly.
const configLoader = `import json, os, runpy, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    os.environ.update(json.load(f))
os.remove(path)
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
`

const unsupported = "not supported by the rcs-testers language host; install the official " +
	"Pulumi CLI (https://www.pulumi.com/docs/install/) for this command"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	execScript string
}

func main() {
	self, err := os.Executable()
	if err != nil {
		fail("cannot locate own executable: %v", err)
	}
	execScript := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(execScript); err != nil {
		fail("missing %s next to the language host; rerun scripts/bootstrap-engine", execScript)
	}

	cancel := make(chan bool)
	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
		<-signals
		close(cancel)
	}()
	go exitWithParent(os.Getppid())

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{execScript: execScript})
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fail("could not start the language host: %v", err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail("language host stopped: %v", err)
	}
}

// exitWithParent ends the host when the engine that started it is gone (killed with SIGKILL,
// say): the engine starts plugins in process groups of their own, so nothing else would.
func exitWithParent(parent int) {
	for {
		time.Sleep(time.Second)
		if os.Getppid() != parent {
			os.Exit(1)
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: "+format+"\n", args...)
	os.Exit(1)
}

func (h *host) Handshake(
	_ context.Context, _ *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

// GetRequiredPlugins reports none: a dynamic provider needs no plugin download, and the
// engine launches pulumi-resource-pulumi-python from PATH when a dynamic resource appears.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies checks that the virtualenv exists; creating it is the Makefile's job.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	python := pythonFor(req.GetInfo())
	if _, err := os.Stat(python); err != nil && filepath.IsAbs(python) {
		return fmt.Errorf("virtualenv python %s not found: run `make venv` in the project", python)
	}
	return server.Send(&pulumirpc.InstallDependenciesResponse{
		Stdout: []byte("dependencies are managed by `make venv` (" + python + ")\n"),
	})
}

func (h *host) About(
	_ context.Context, req *pulumirpc.AboutRequest,
) (*pulumirpc.AboutResponse, error) {
	python := pythonFor(req.GetInfo())
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("unable to run %s --version: %w", python, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: python,
		Version:    strings.TrimSpace(strings.TrimPrefix(string(out), "Python ")),
	}, nil
}

// GetProgramDependencies lists the virtualenv's packages with `pip list`.
func (h *host) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	python := pythonFor(req.GetInfo())
	out, err := exec.Command(python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check").Output()
	if err != nil {
		return nil, fmt.Errorf("unable to list Python packages with %s -m pip list: %w", python, err)
	}
	var packages []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(out, &packages); err != nil {
		return nil, fmt.Errorf("unable to parse pip list output: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range packages {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

// Run executes the Python program through pulumi-language-python-exec with the project's
// virtualenv, passing the stack configuration in the environment as the SDK expects.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	python := pythonFor(info)

	program := req.GetProgram()
	if info != nil && info.GetEntryPoint() != "" {
		program = info.GetEntryPoint()
	}
	if program == "" {
		program = "."
	}

	// The stack config travels in a private file, not in the environment: Linux caps one
	// environment string at 128 KiB, which a stack of a few thousand testers exceeds.
	configDir, err := os.MkdirTemp("", "rcs-testers-config-")
	if err != nil {
		return nil, fmt.Errorf("unable to create a private directory for the stack config: %w", err)
	}
	defer os.RemoveAll(configDir)
	configFile := filepath.Join(configDir, "config.json")

	args := []string{
		"-u", "-c", configLoader, configFile, h.execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", engineAddressFromArgs(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
	}
	if info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root_directory", info.GetRootDirectory())
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("unable to encode stack config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("unable to encode secret config keys: %w", err)
	}

	payload, err := json.Marshal(map[string]string{
		"PULUMI_CONFIG":             string(config),
		"PULUMI_CONFIG_SECRET_KEYS": string(secretKeysJSON),
	})
	if err != nil {
		return nil, fmt.Errorf("unable to encode stack config: %w", err)
	}
	if err := os.WriteFile(configFile, payload, 0o600); err != nil {
		return nil, fmt.Errorf("unable to write the stack config for the program: %w", err)
	}

	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(virtualenvEnv(os.Environ(), python), "PYTHONUNBUFFERED=1")
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (%s): %v", python, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) RunPlugin(
	*pulumirpc.RunPluginRequest, grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	return status.Error(codes.Unimplemented, "running Python plugins is "+unsupported)
}

// engineAddressFromArgs returns the engine address: the only positional argument the engine
// passes; its logging and tracing flags (-v=9, --logtostderr, --tracing ...) are ignored.
func engineAddressFromArgs() string {
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			return arg
		}
	}
	return ""
}

// pythonFor resolves the interpreter: the `virtualenv` runtime option (relative to the project
// root), else $VIRTUAL_ENV, else python3 from PATH.
func pythonFor(info *pulumirpc.ProgramInfo) string {
	if info != nil && info.GetOptions() != nil {
		if venv, ok := info.GetOptions().AsMap()["virtualenv"].(string); ok && venv != "" {
			if !filepath.IsAbs(venv) {
				venv = filepath.Join(info.GetRootDirectory(), venv)
			}
			return filepath.Join(venv, "bin", "python")
		}
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		return filepath.Join(venv, "bin", "python")
	}
	return "python3"
}

// virtualenvEnv activates the virtualenv that holds python, if it is one.
func virtualenvEnv(env []string, python string) []string {
	if !filepath.IsAbs(python) {
		return env
	}
	venv := filepath.Dir(filepath.Dir(python))
	if _, err := os.Stat(filepath.Join(venv, "pyvenv.cfg")); err != nil {
		return env
	}
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "VIRTUAL_ENV=") ||
			strings.HasPrefix(kv, "PYTHONHOME=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"VIRTUAL_ENV="+venv,
		"PATH="+filepath.Join(venv, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
}
