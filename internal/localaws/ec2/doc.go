// Package ec2 is the stand-in's EC2: the account's default VPC with a
// default subnet in each of three availability zones and the VPC's default
// security group, security groups and their rules, tags, and launch
// templates with their versions, over the EC2 query protocol (form-encoded
// requests, XML answers in the 2016-11-15 namespace). It keeps EC2's rules
// and error codes as AWS documents them, and answers DryRun as EC2 does.
package ec2
