package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// resolve reads the runtime options (`toolchain`, `virtualenv`, `typechecker`) of a program,
// plugin or policy pack and returns the SDK toolchain that runs its Python. Plugins other
// than policy packs default to a `venv` virtualenv beside them, as Pulumi's hosts do.
func resolve(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.Toolchain, toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	options := info.GetOptions().AsMap()
	str := func(key string) (string, bool, error) {
		raw, ok := options[key]
		if !ok {
			return "", false, nil
		}
		value, isString := raw.(string)
		if !isString {
			return "", false, fmt.Errorf("%s option must be a string", key)
		}
		return value, true, nil
	}
	venv, _, err := str("virtualenv")
	if err != nil {
		return nil, opts, err
	}
	opts.Virtualenv = venv
	if name, ok, err := str("typechecker"); err != nil {
		return nil, opts, err
	} else if ok {
		switch name {
		case "mypy":
			opts.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			opts.Typechecker = toolchain.TypeCheckerPyright
		default:
			return nil, opts, fmt.Errorf("unsupported typechecker option: %s", name)
		}
	}
	if name, ok, err := str("toolchain"); err != nil {
		return nil, opts, err
	} else if ok {
		switch name {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return nil, opts, fmt.Errorf("unsupported toolchain option: %s", name)
		}
	}
	if isPlugin && (opts.Toolchain == toolchain.Pip || opts.Toolchain == toolchain.Auto) && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return tc, opts, err
}

// InstallDependencies creates the virtualenv and installs requirements.txt (pip), or runs
// uv / poetry, through the SDK's toolchain: `pulumi install` in a project or a policy pack.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, _, err := resolve(req.GetInfo(), req.GetIsPlugin())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx, dir := server.Context(), req.GetInfo().GetProgramDirectory()

	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if req.GetIsPlugin() {
		buildable, err := toolchain.IsBuildablePackage(dir)
		if err != nil {
			return fmt.Errorf("checking if plugin is a buildable package: %w", err)
		}
		if buildable {
			if err := tc.EnsureVenv(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
				return fmt.Errorf("creating virtual environment: %w", err)
			}
			cmd, err := tc.ModuleCommand(ctx, "pip", "install", dir)
			if err != nil {
				return err
			}
			cmd.Stdout, cmd.Stderr = stdout, stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("installing package: %w", err)
			}
		}
	}
	if err := tc.InstallDependencies(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// RunPlugin runs a Python plugin from its directory. A policy pack (kind "analyzer") runs as
// `python -u -m pulumi.policy <args> <dir>` in its own directory, behind the SDK's
// PolicyProxy, which learns the stack (project, stack, config) from the engine first and
// hands it to the pack in PULUMI_* environment variables. Other plugins run their
// __main__.py, or `python -m pulumi.run.plugin <name>` for a buildable package.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetAttachDebugger() {
		return errors.New("attaching a debugger is " + unsupported)
	}
	ctx := server.Context()
	isAnalyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	tc, opts, err := resolve(req.GetInfo(), !isAnalyzer)
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()

	var cmd *exec.Cmd
	switch {
	case isAnalyzer:
		if err := packVenvReady(ctx, tc, opts, dir); err != nil {
			return err
		}
		args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		cmd, err = tc.Command(ctx, append(args, dir)...)
	case hasFile(filepath.Join(opts.Root, "__main__.py")) || !hasPluginRunner(ctx, tc):
		cmd, err = tc.Command(ctx, append([]string{dir}, req.GetArgs()...)...)
	default:
		project, perr := toolchain.LoadPyproject(opts.Root)
		if perr != nil {
			return fmt.Errorf("plugin is not runnable, it provides neither __main__.py nor a buildable "+
				"pyproject.toml: %w", perr)
		}
		cmd, err = tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{project.Project.Name}, req.GetArgs()...)...)
	}
	if err != nil {
		return err
	}

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	var proxy *sdk.PolicyProxy
	if isAnalyzer {
		cmd.Dir = dir
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get stack configuration: %w", err)
		}
		env, err := policyPackEnv(stack)
		if err != nil {
			return err
		}
		cmd.Env = append(cmd.Env, env...)
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	err = cmd.Start()
	if err == nil {
		if proxy != nil {
			err = proxy.Attach(ctx, cmd)
		} else {
			err = cmd.Wait()
		}
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())},
			})
		}
		return fmt.Errorf("problem executing plugin program (could not run language executor): %w", err)
	}
	return closer.Close()
}

// packVenvReady fails fast, naming the command that installs it, when a policy pack's
// virtualenv is missing. Started without one, the pack never answers the engine, and the
// preview would wait with nothing shown.
func packVenvReady(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions, dir string) error {
	if opts.Toolchain != toolchain.Pip && opts.Toolchain != toolchain.Auto {
		return nil
	}
	if err := tc.ValidateVenv(ctx); err == nil {
		return nil
	}
	venv, err := tc.VirtualEnvPath(ctx)
	if err != nil {
		return err
	}
	return fmt.Errorf("Unable to run the policy pack in %s: its virtualenv %s is not installed. "+
		"Install it first: `make policy-venv` in the rcs-testers repository (its pinned, "+
		"hash-checked requirements.txt), or `pulumi install` in %s", dir, venv, dir)
}

// policyPackEnv is what pulumi-policy reads at start-up: organization, project, stack,
// dry run and the stack config (the same 128 KiB limit as the program's PULUMI_CONFIG).
func policyPackEnv(stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if stack == nil {
		return nil, nil
	}
	var env []string
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	add("PULUMI_ORGANIZATION", stack.GetOrganization())
	add("PULUMI_PROJECT", stack.GetProject())
	add("PULUMI_STACK", stack.GetStack())
	add("PULUMI_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if cfg := stack.GetConfig(); cfg != nil {
		text, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("could not marshal stack configuration: %w", err)
		}
		add(configVar, string(text))
	}
	return env, nil
}

// hasPluginRunner tells whether the plugin's Python has the SDK's pulumi.run.plugin module
// (older SDKs do not; their plugins are run as bare directories).
func hasPluginRunner(ctx context.Context, tc toolchain.Toolchain) bool {
	cmd, err := tc.Command(ctx, "-c", "import pulumi.run.plugin")
	if err != nil {
		return false
	}
	out, err := cmd.CombinedOutput()
	return err == nil || !strings.Contains(string(out), "ModuleNotFoundError")
}

func hasFile(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
