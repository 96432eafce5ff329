// Command pulumi-language-python is rcs-testers' stand-in for Pulumi's Python language host.
//
// Pulumi's own host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// is not served by the Go module proxy this project builds from, neither by tag nor by commit.
// This host behaves like it wherever a user of this project would notice: it resolves Python
// through the SDK's own toolchain package (sdk/v3/python/toolchain: pip, uv or poetry, the
// `virtualenv` option), runs the program through the SDK's pulumi-language-python-exec with
// the stack config in the PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS environment variables
// (so Linux's 128 KiB limit on one environment string applies here too), installs
// dependencies, and runs Python plugins and policy packs (through the SDK's PolicyProxy).
// The calls it does not serve (templates, code generation, packing, linking, debugging)
// answer Unimplemented with a message that says to install the official Pulumi CLI.
//
// Where the official Pulumi CLI is installed, scripts/bootstrap-engine uses its host instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

const (
	// execScriptName is the SDK's program runner, installed next to this host.
	execScriptName = "pulumi-language-python-exec"
	// configVar and configSecretKeysVar carry the stack config to the program: the Python
	// SDK reads them at import time. One environment string is limited to 128 KiB on Linux.
	configVar           = "PULUMI_CONFIG"
	configSecretKeysVar = "PULUMI_CONFIG_SECRET_KEYS" //nolint:gosec // a variable name
	// bailExitCode is what pulumi-language-python-exec exits with after it has already shown
	// the user an actionable error through the engine; the host must not add another one.
	bailExitCode = 32
	// healthcheckInterval is how often the host checks that the engine still answers.
	healthcheckInterval = 5 * time.Minute
)

const unsupported = "not supported by the rcs-testers language host; install the official " +
	"Pulumi CLI (https://www.pulumi.com/docs/install/) for this command"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	execScript    string
	engineAddress string
	// cancelCtx ends running programs when the engine calls Cancel.
	cancelCtx  context.Context
	cancelFunc context.CancelFunc
}

func main() {
	flag.String("tracing", "", "Emit tracing to a Zipkin-compatible endpoint (ignored)")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	givenExec := flag.String("use-executor", "", "Run programs with this executor instead of "+execScriptName)
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	logging.InitLogging(false, 0, false)

	execScript := *givenExec
	if execScript == "" {
		self, err := os.Executable()
		if err != nil {
			fail("cannot locate own executable: %v", err)
		}
		execScript = filepath.Join(filepath.Dir(self), execScriptName)
		if _, err := os.Stat(execScript); err != nil {
			fail("missing %s next to the language host; rerun scripts/bootstrap-engine", execScript)
		}
	}
	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, healthcheckInterval, stop); err != nil {
			fail("could not start the engine health check: %v", err)
		}
	}
	go exitWithParent(os.Getppid())

	runCtx, runCancel := context.WithCancel(context.Background())
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{
				execScript: execScript, engineAddress: engineAddress,
				cancelCtx: runCtx, cancelFunc: runCancel,
			})
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
// say): the engine starts plugins in process groups of their own, and the health check
// above only notices after minutes.
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
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelFunc()
	return &emptypb.Empty{}, nil
}

// GetRequiredPackages reports none: a dynamic provider needs no plugin download, and the
// engine launches pulumi-resource-pulumi-python from PATH when a dynamic resource appears.
// (The official host also lists installed Python packages that ship a pulumi-plugin.json;
// this project installs none.) The virtualenv is created when missing, as the official host does.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, _, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.EnsureVenv(ctx, req.GetInfo().GetProgramDirectory(), false, true, os.Stdout, os.Stderr); err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) About(
	ctx context.Context, req *pulumirpc.AboutRequest,
) (*pulumirpc.AboutResponse, error) {
	tc, opts, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(opts.Toolchain),
			"toolchainVersion": info.ToolchainVersion.String(),
			"typechecker":      toolchain.TypeCheckerName(opts.Typechecker),
		},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, _, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("failed to get python dependencies: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

// Run executes the program through pulumi-language-python-exec with the toolchain's Python,
// the stack config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, and typechecks it first when
// the project's `typechecker` option asks for it.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is " + unsupported}, nil
	}
	tc, opts, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	if err := typecheck(ctx, tc, opts, req.GetInfo().GetProgramDirectory()); err != nil {
		return nil, err
	}

	runCtx, runCancel := context.WithCancel(h.cancelCtx)
	defer runCancel()
	context.AfterFunc(ctx, runCancel)
	cmd, err := tc.Command(runCtx, append([]string{h.execScript}, h.programArgs(req)...)...)
	if err != nil {
		return nil, err
	}
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)

	if err := cmd.Run(); err != nil {
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			// E2BIG ("argument list too long") lands here: the config did not fit the environment.
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("problem executing program (could not run language executor): %v", err),
			}, nil
		}
		switch code := exitErr.ExitCode(); code {
		case bailExitCode:
			return &pulumirpc.RunResponse{Bail: true}, nil
		case 0:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exitErr)}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
		}
	}
	return &pulumirpc.RunResponse{}, nil
}

// programArgs builds pulumi-language-python-exec's command line; empty values are left out.
func (h *host) programArgs(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// configEnv renders the stack config as the Python SDK reads it: PULUMI_CONFIG (a JSON
// object of key to value, omitted when the engine sends none) and PULUMI_CONFIG_SECRET_KEYS.
func configEnv(req *pulumirpc.RunRequest) ([]string, error) {
	var env []string
	if cfg := req.GetConfig(); cfg != nil {
		text, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration: %w", err)
		}
		env = append(env, configVar+"="+string(text))
	}
	keys := req.GetConfigSecretKeys()
	if keys == nil {
		keys = []string{}
	}
	text, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}
	return append(env, configSecretKeysVar+"="+string(text)), nil
}

// typecheck runs mypy or pyright over the program directory when the project asks for it.
func typecheck(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions, dir string) error {
	var name string
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		name = "mypy"
	case toolchain.TypeCheckerPyright:
		name = "pyright"
	default:
		return nil
	}
	args := []string{"-m", name}
	if name == "mypy" {
		venv, err := tc.VirtualEnvPath(ctx)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(dir, venv); err == nil {
			args = append(args, "--exclude", rel)
		}
	}
	cmd, err := tc.Command(ctx, append(args, dir)...)
	if err != nil {
		return err
	}
	var output strings.Builder
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		os.Stdout.WriteString(output.String())
		return fmt.Errorf("%s failed: %w\n%s", name, err, output.String())
	}
	os.Stdout.WriteString(output.String())
	return nil
}

func (h *host) Template(context.Context, *pulumirpc.TemplateRequest) (*pulumirpc.TemplateResponse, error) {
	return nil, status.Error(codes.Unimplemented, "project templates are "+unsupported)
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
