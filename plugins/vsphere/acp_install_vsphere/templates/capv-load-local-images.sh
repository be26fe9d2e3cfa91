#!/bin/bash
set -euo pipefail
until mountpoint -q /var/lib/containerd; do
  echo "waiting for /var/lib/containerd mount"
  sleep 1
done
systemctl restart containerd
until systemctl is-active --quiet containerd; do
  echo "waiting for containerd"
  sleep 1
done
if [ ! -d "/root/images" ]; then
  echo "ERROR: /root/images directory not found" >&2
  exit 1
fi
image_count=0
for image_file in /root/images/*.tar; do
  if [ -f "$image_file" ]; then
    echo "importing image: $image_file"
    ctr -n k8s.io images import "$image_file"
    image_count=$((image_count + 1))
  fi
done
if [ "$image_count" -eq 0 ]; then
  echo "ERROR: no tar files found in /root/images" >&2
  exit 1
fi
echo "imported $image_count images"
