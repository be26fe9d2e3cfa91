#!/bin/bash
# Import the images preloaded in the VM template (/root/images/*.tar) into containerd before
# kubeadm runs: the node cannot pull etcd, kube-apiserver and pause before the platform exists.
# (No curly-brace sequences here: cloud-init renders user data as a jinja template.)
set -euo pipefail

for _ in $(seq 1 120); do
  if mountpoint -q /var/lib/containerd; then
    break
  fi
  echo "waiting for /var/lib/containerd to be mounted"
  sleep 5
done
mountpoint -q /var/lib/containerd || { echo "/var/lib/containerd is not mounted" >&2; exit 1; }

systemctl restart containerd
for _ in $(seq 1 60); do
  ctr -n k8s.io version >/dev/null 2>&1 && break
  sleep 2
done

found=0
for image in /root/images/*.tar; do
  [ -e "$image" ] || continue
  ctr -n k8s.io images import "$image"
  found=1
done
if [ "$found" -eq 0 ]; then
  echo "no image archives found in /root/images" >&2
  exit 1
fi
