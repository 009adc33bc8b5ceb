package ship

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readFrame reads one RFC 6587 octet-counted frame (MSG-LEN SP MSG) from
// r: MSG-LEN is 1 to 9 digits without a leading zero. Tests use it to read
// what a destination wrote.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	n, digits := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && digits > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if c == ' ' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || digits == 0 && c == '0' || digits == 9 {
			return nil, fmt.Errorf("bad MSG-LEN byte %q", c)
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if n > max {
		return nil, fmt.Errorf("frame of %d bytes, more than %d", n, max)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return msg, nil
}

func TestAppendFrame(t *testing.T) {
	for _, msg := range []string{"", "a", "line\nwith\nnewlines", strings.Repeat("x", 1000)} {
		got := appendFrame([]byte("p"), []byte(msg))
		want := fmt.Sprintf("p%d %s", len(msg), msg)
		if string(got) != want {
			t.Errorf("appendFrame(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestAppendFramed(t *testing.T) {
	for _, line := range []string{"", "a", "x\ny", strings.Repeat("z", 100000)} {
		m := Message{Host: "h", Module: "m", File: "1", Seq: 1, Time: testTime, Line: []byte(line)}
		msg, err := Format{}.Append(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendFramed([]byte("prefix"), Format{}, &m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := appendFrame([]byte("prefix"), msg); !bytes.Equal(got, want) {
			t.Errorf("appendFramed for a %d-byte line differs from appendFrame", len(line))
		}
	}
	// Every length of line up to where the prefix has five digits, with
	// a plain file name and with one that escaping makes longer: the
	// room reserved for the prefix is sometimes too much and sometimes
	// too little.
	for _, file := range []string{"1", strings.Repeat(`"`, 60)} {
		for n := range 11000 {
			m := Message{Host: "h", Module: "m", File: file, Seq: 1, Time: testTime, Line: bytes.Repeat([]byte("z"), n)}
			msg, err := Format{}.Append(nil, &m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendFramed([]byte("prefix"), Format{}, &m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := appendFrame([]byte("prefix"), msg); !bytes.Equal(got, want) {
				t.Fatalf("appendFramed for a %d-byte line and file %q differs from appendFrame", n, file)
			}
		}
	}
	bad := Message{Host: "a b"}
	got, err := appendFramed([]byte("keep"), Format{}, &bad, nil)
	if !errors.Is(err, ErrBadMessage) || string(got) != "keep" {
		t.Errorf("bad message: %q, %v", got, err)
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "3 abc", want: []string{"abc"}},
		{in: "3 abc5 a\nb c", want: []string{"abc", "a\nb c"}},
		{in: "03 abc", err: true},
		{in: "0 ", err: true},
		{in: " 3 abc", err: true},
		{in: "3abc", err: true},
		{in: "3 ab", err: true},
		{in: "1234567890 x", err: true},
		{in: "99 x", err: true},
	}
	for _, tt := range tests {
		r := bufio.NewReader(strings.NewReader(tt.in))
		var got []string
		var err error
		for {
			var f []byte
			f, err = readFrame(r, 50)
			if err != nil {
				break
			}
			got = append(got, string(f))
		}
		if err == io.EOF {
			err = nil
		}
		if (err != nil) != tt.err || !tt.err && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("readFrame(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// FuzzReadFrame checks that the test decoder never panics, never reads
// beyond a frame, and reads back exactly what appendFrame wrote.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("3 abc5 a\nb c"), []byte("msg"))
	f.Add([]byte("0 "), []byte(""))
	f.Add([]byte("999999999 "), []byte("\n\n"))
	f.Fuzz(func(t *testing.T, in, msg []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			if _, err := readFrame(r, 1<<16); err != nil {
				break
			}
		}
		if len(msg) == 0 {
			return
		}
		framed := appendFrame(nil, msg)
		framed = appendFrame(framed, msg)
		r = bufio.NewReader(bytes.NewReader(framed))
		for range 2 {
			got, err := readFrame(r, 1<<16)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("round trip of %q: %q, %v", msg, got, err)
			}
		}
		if _, err := readFrame(r, 1<<16); err != io.EOF {
			t.Fatalf("after two frames: %v, want EOF", err)
		}
	})
}
