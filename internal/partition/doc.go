// Package partition names the AWS partition a region belongs to (aws,
// aws-cn, aws-us-gov): the one rule the CLI's ARNs and the hosts' download
// URLs share.
package partition
