//go:build !linux

package client

func transportCases() []transportCase { return []transportCase{serialCase()} }
