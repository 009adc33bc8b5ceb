package main

import (
	"fmt"
	"strings"
)

// noModuleError says that an audit directory holds no files of a module,
// and which modules it holds.
type noModuleError struct {
	dir, module string
	found       []string // the modules of dir, sorted
}

func (e *noModuleError) Error() string {
	if len(e.found) == 0 {
		return fmt.Sprintf("no module %s in %s: it holds no audit files", e.module, e.dir)
	}
	return fmt.Sprintf("no module %s in %s; its modules are %s", e.module, e.dir, strings.Join(e.found, ", "))
}

// checkModule reports whether dir holds audit files of module: nil if it
// does or module is empty, a *noModuleError listing the modules found if
// it does not, or the error about dir. Every command that takes --module
// calls it, so that a module name with a typo is an error (exit status 2)
// the same way everywhere.
func checkModule(dir, module string) error {
	if module == "" {
		return nil
	}
	mods, err := listAuditFiles(dir, "")
	if err != nil {
		return err
	}
	found := make([]string, 0, len(mods))
	for _, m := range mods {
		if m.module == module {
			return nil
		}
		found = append(found, m.module)
	}
	return &noModuleError{dir: dir, module: module, found: found}
}
