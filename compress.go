package audit

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// compressor gzips backups in a goroutine of its own, from startCompressor
// until stop.
type compressor struct {
	fs      fileSystem
	onError func(error)
	ctx     context.Context
	cancel  context.CancelFunc
	wake    chan struct{} // has an element when the queue may be non-empty
	done    chan struct{} // closed when the goroutine has returned

	mu    sync.Mutex
	queue []string // backups to compress, oldest first
}

// startCompressor removes the compressions in dir that a previous run left
// unfinished, queues the module's uncompressed backups and starts the
// goroutine. Errors go to onError.
func startCompressor(fsys fileSystem, dir, module string, onError func(error)) *compressor {
	ctx, cancel := context.WithCancel(context.Background())
	c := &compressor{
		fs:      fsys,
		onError: onError,
		ctx:     ctx,
		cancel:  cancel,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	backups, err := listBackups(fsys, dir, module)
	if err != nil {
		onError(fmt.Errorf("audit: compress backups of %s: %w", module, err))
	}
	for _, b := range backups {
		p := filepath.Join(dir, b.name)
		switch b.kind {
		case backupPlain:
			c.queue = append(c.queue, p)
		case backupTmp:
			if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				onError(fmt.Errorf("audit: remove unfinished compression %s: %w", p, cause(err)))
			}
		}
	}
	if len(c.queue) > 0 {
		c.wake <- struct{}{}
	}
	go c.run()
	return c
}

// add queues backup for compression.
func (c *compressor) add(backup string) {
	c.mu.Lock()
	c.queue = append(c.queue, backup)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued backup.
func (c *compressor) next() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return "", false
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	return p, true
}

// stop cancels the queued work, waits for the backup in progress to be
// finished or abandoned, and for the goroutine to return.
func (c *compressor) stop() {
	c.cancel()
	<-c.done
}

// run is the compressor's goroutine.
func (c *compressor) run() {
	defer close(c.done)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		}
		for c.ctx.Err() == nil {
			p, ok := c.next()
			if !ok {
				break
			}
			if err := compressBackup(c.ctx, c.fs, p); err != nil && c.ctx.Err() == nil {
				c.onError(err)
			}
		}
	}
}

// compressBackup gzips backup into backup.gz through backup.gz.tmp, makes
// it durable and removes backup. On failure or cancellation it removes the
// temporary file and keeps backup. A backup that no longer exists (pruned
// meanwhile) is not an error. A backup.gz that already exists can only be a
// complete compression of the same backup whose original a crash kept; it
// is replaced.
func compressBackup(ctx context.Context, fsys fileSystem, backup string) error {
	release := markCompressing(backup)
	defer release()
	in, err := fsys.OpenFile(backup, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: compress %s: %w", backup, cause(err))
	}
	defer in.Close()
	tmp := backup + gzExt + tmpExt
	out, err := openRegular(fsys, tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("audit: compress %s: %w", backup, err)
	}
	err = writeGzip(ctx, out, in, filepath.Base(backup))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, backup+gzExt)
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("audit: compress %s: %w", backup, cause(err))
	}
	dir := filepath.Dir(backup)
	if err := fsys.SyncDir(dir); err != nil {
		// Keep the original: the compressed name may not survive a crash.
		return fmt.Errorf("audit: compress %s: sync directory %s: %w", backup, dir, cause(err))
	}
	if err := fsys.Remove(backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: compress %s: remove the original: %w", backup, cause(err))
	}
	return nil
}

// writeGzip compresses all of in into out, checking ctx between chunks.
func writeGzip(ctx context.Context, out io.Writer, in io.Reader, name string) error {
	zw := gzip.NewWriter(out)
	zw.Name = name
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := zw.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return zw.Close()
		}
		if rerr != nil {
			return rerr
		}
	}
}
