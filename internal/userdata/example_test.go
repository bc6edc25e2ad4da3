package userdata_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/batchxray/batchxray/internal/userdata"
)

func ExampleBuild() {
	doc, err := userdata.Build(userdata.Params{Region: "eu-west-1", Arch: "arm64"}, userdata.WithBoundary("==EXAMPLE=="))
	if err != nil {
		log.Fatal(err)
	}
	// CreateLaunchTemplate takes userdata.Encode(doc); the head of the
	// document is what Batch checks.
	head := bytes.SplitN(doc, []byte("\n"), 6)[:5]
	fmt.Printf("%s\n", bytes.Join(head, []byte("\n")))
	// Output:
	// MIME-Version: 1.0
	// Content-Type: multipart/mixed; boundary="==EXAMPLE=="
	//
	// --==EXAMPLE==
	// Content-Type: text/x-shellscript; charset="us-ascii"
}

func ExampleParse() {
	doc, err := userdata.Build(userdata.Params{Region: "cn-north-1", Arch: "amd64"})
	if err != nil {
		log.Fatal(err)
	}
	p, _, err := userdata.Parse(doc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Region, p.Partition, p.Arch, p.Version)
	// Output:
	// cn-north-1 aws-cn x86_64 3.x
}
