#!/bin/sh
# Usage: deploy/kubernetes/grade.sh ASSIGNMENT [BATCHES]  -- one Indexed Job grading ASSIGNMENT in BATCHES pods.
set -eu
assignment=$1; batches=${2:-10}
here=$(dirname "$0")
sed -e "s/JOBNAME/$(echo "$assignment" | tr _ -)/" -e "s/ASSIGNMENT/$assignment/g" -e "s/completions: 10 /completions: $batches /" \
    -e "s/parallelism: 10/parallelism: $batches/" -e "s/value: \"10\"/value: \"$batches\"/" \
    "$here/grading-job.yaml" | kubectl apply -f -
kubectl -n cnn-course wait --for=condition=complete --timeout=2h "job/grade-$(echo "$assignment" | tr _ -)"
