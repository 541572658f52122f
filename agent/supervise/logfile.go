package supervise

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// LogFile is an append-only log that rotates to <path>.1 when it grows past Max bytes, so a chatty writer can use
// at most twice Max on disk. A build's output goes through one; a binary writes its log itself (see capLog).
type LogFile struct {
	Path string
	Max  int64

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenLog opens (or creates) path for appending.
func OpenLog(path string, max int64) (*LogFile, error) {
	l := &LogFile{Path: path, Max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past Max.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	n := len(p)
	if l.Max > 0 && int64(len(p)) > l.Max { // one write bigger than the cap: its newest part
		p = p[int64(len(p))-l.Max:]
	}
	if l.Max > 0 && l.size > 0 && l.size+int64(len(p)) > l.Max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	w, err := l.f.Write(p)
	l.size += int64(w)
	if err != nil {
		return w, err
	}
	return n, nil
}

func (l *LogFile) rotate() error {
	l.f.Close()
	if err := os.Rename(l.Path, l.Path+".1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate log: %w", err)
	}
	return l.open()
}

// Close closes the file; later writes fail.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// capLog keeps the binary's log near LogMax for as long as the binary is supervised. The binary writes the file
// itself, through a descriptor opened for appending, so the supervisor cannot rotate as it writes: it checks the
// size every LogEvery and, past LogMax, copies the newest LogMax bytes to <log>.1 and truncates the log, and the
// binary's next write lands at the new end. The log may pass LogMax by what the binary writes in one LogEvery; a
// line written between the copy and the truncation is lost.
func (p *proc) capLog() {
	t := time.NewTicker(p.opt.LogEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if err := truncateLog(p.spec.Log, p.opt.LogMax); err != nil {
			p.opt.Logger.Warn("cap binary log", "binary", p.spec.Name, "err", err)
		}
	}
}

// truncateLog moves the newest max bytes of the log at path to path.1 and empties the log, when it is larger
// than max (copy, then truncate: whoever appends to it keeps its descriptor).
func truncateLog(path string, max int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() <= max {
		return err
	}
	tmp, err := os.OpenFile(path+".1.tmp", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	size := st.Size()
	_, err = io.Copy(tmp, io.NewSectionReader(f, size-max, max))
	if err == nil { // what came in meanwhile, so that only what lands in the next instants is lost
		if st, err = f.Stat(); err == nil && st.Size() > size {
			_, err = io.Copy(tmp, io.NewSectionReader(f, size, st.Size()-size))
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".1.tmp", path+".1")
	}
	if err != nil {
		os.Remove(path + ".1.tmp")
		return fmt.Errorf("rotate log: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}

// Tail returns at most the last n lines of the log at path (and of its rotated part when the current file is
// short), reading at most 1 MiB.
func Tail(path string, n int) (string, error) {
	const window = 1 << 20
	data, err := readLast(path, window)
	if err != nil {
		return "", err
	}
	if countLines(data) < n {
		if old, err := readLast(path+".1", window-int64(len(data))); err == nil {
			data = append(old, data...)
		}
	}
	return lastLines(string(data), n), nil
}

func readLast(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, max))
}

func countLines(b []byte) int {
	c := 0
	for _, x := range b {
		if x == '\n' {
			c++
		}
	}
	return c
}

// lastLines keeps the last n lines of s (n <= 0: all of it).
func lastLines(s string, n int) string {
	if n <= 0 {
		return s
	}
	end := len(s)
	if end > 0 && s[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if s[i] == '\n' {
			if n--; n == 0 {
				return s[i+1:]
			}
		}
	}
	return s
}
