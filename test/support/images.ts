/**
 * The test images built by scripts/make-test-images.sh (names mirrored from there: change both together).
 * Use these names instead of Docker Hub images: tests never reach the internet.
 */
import { AUTH_REGISTRY, OPEN_REGISTRY } from './registry.js';

export const TEST_IMAGES = {
  /** busybox-static rootfs: sh, sleep, echo, cat, wget, nc, … (all applets in /bin); CMD ["sh"]. Kept in the local engine. */
  busybox: `${OPEN_REGISTRY}/bosun-test/busybox:1`,
  /** The same with a different /etc/bosun-test-image: a distinct layer, for "image changed" updates. */
  busybox2: `${OPEN_REGISTRY}/bosun-test/busybox:2`,
  /** busybox:1 plus 3 layers of 12 MiB random data: observable pull progress; not kept in the local engine. */
  large: `${OPEN_REGISTRY}/bosun-test/large:1`,
  /** The same with other random data (a second big release, for the disk preflight). */
  large2: `${OPEN_REGISTRY}/bosun-test/large:2`,
  /** busybox:1 in the registry that needs basic auth (test/support/registry.ts REGISTRY_CREDENTIALS). */
  privateBusybox: `${AUTH_REGISTRY}/bosun-test/busybox:1`,
} as const;

/** Label every test image carries (`1` or `2`), so a test can tell which variant a container runs. */
export const TEST_IMAGE_VARIANT_LABEL = 'io.bosun.test.variant';
