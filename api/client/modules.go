package client

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/errs"
)

// The module routes' messages (docs/modules.md).
type (
	PublishRequest   = message.PublishRequest
	PublishResult    = message.PublishResult
	ModuleEntry      = message.ModuleEntry
	ModuleSummary    = message.ModuleSummary
	ModuleFunction   = message.ModuleFunction
	ModuleSpec       = message.ModuleSpec
	ModuleRow        = message.ModuleRow
	ModuleBuild      = message.ModuleBuild
	ModuleTable      = message.ModuleTable
	VerifyRequest    = message.VerifyRequest
	EvaluateRequest  = message.EvaluateRequest
	ModuleFailure    = message.ModuleFailure
	ModuleImplReport = message.ModuleImplReport
	ModuleReport     = message.ModuleReport
)

// ReadModuleDir reads the regular files under dir (a module DIR,
// docs/modules.md) into a PublishRequest. Hidden files and directories
// (names starting with ".") are left out.
func ReadModuleDir(dir string) (PublishRequest, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return PublishRequest{}, errs.E(errs.NotExist, errs.Path(dir), err)
	}
	if !st.IsDir() {
		return PublishRequest{}, errs.E(errs.Invalid, errs.Path(dir), "not a directory (want a module DIR with interface.json)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return PublishRequest{}, errs.E(errs.Invalid, errs.Path(dir), err)
	}
	req := PublishRequest{Dir: filepath.Base(abs), Files: map[string]string{}}
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != abs && len(d.Name()) > 0 && d.Name()[0] == '.' {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil {
			return err
		}
		req.Files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return PublishRequest{}, errs.E(errs.Invalid, errs.Path(dir), err)
	}
	return req, nil
}

func modulePath(world, name, rest string) string {
	return worldPath(world, "/modules/"+url.PathEscape(name)+rest)
}

// PublishModule stores a module DIR's files (ReadModuleDir) in world's
// catalog as the client's identity (POST .../modules, coal mod publish).
func (c *Client) PublishModule(ctx context.Context, world string, req PublishRequest) (PublishResult, error) {
	var res PublishResult
	err := c.do(ctx, http.MethodPost, worldPath(world, "/modules"), nil, req, &res)
	return res, err
}

// Modules lists the modules of world's catalog the client may read
// (GET .../modules, coal mod ls).
func (c *Client) Modules(ctx context.Context, world string) ([]ModuleSummary, error) {
	var res []ModuleSummary
	err := c.do(ctx, http.MethodGet, worldPath(world, "/modules"), nil, nil, &res)
	return res, err
}

// Module returns module name's table (GET .../modules/NAME, coal mod show).
func (c *Client) Module(ctx context.Context, world, name string) (ModuleTable, error) {
	var res ModuleTable
	err := c.do(ctx, http.MethodGet, modulePath(world, name, ""), nil, nil, &res)
	return res, err
}

// VerifyModule verifies module name's impls (POST .../modules/NAME/verify,
// coal verify).
func (c *Client) VerifyModule(ctx context.Context, world, name string, req VerifyRequest) (ModuleReport, error) {
	var res ModuleReport
	err := c.do(ctx, http.MethodPost, modulePath(world, name, "/verify"), nil, req, &res)
	return res, err
}

// EvaluateModule scores module name's verified impls (POST
// .../modules/NAME/evaluate, coal evaluate).
func (c *Client) EvaluateModule(ctx context.Context, world, name string, req EvaluateRequest) (ModuleReport, error) {
	var res ModuleReport
	err := c.do(ctx, http.MethodPost, modulePath(world, name, "/evaluate"), nil, req, &res)
	return res, err
}

// BuildModule chooses module name's best verified impl and writes
// /mod/NAME/build and /mod/NAME/main (POST .../modules/NAME/build, coal
// build).
func (c *Client) BuildModule(ctx context.Context, world, name string) (ModuleBuild, error) {
	var res ModuleBuild
	err := c.do(ctx, http.MethodPost, modulePath(world, name, "/build"), nil, nil, &res)
	return res, err
}
