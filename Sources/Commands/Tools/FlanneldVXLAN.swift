// FlanneldVXLAN: flannel's vxlan backend (pkg/backend/vxlan) — placeholder until the kernel's
// vxlan device is available to tools.

import NetKernel

func makeVXLANBackend(daemon: Flanneld, ext: FlannelExternalInterface) -> FlannelBackend? { nil }
