// A second Worker for workerd that loads the default entry (kernels embedded as bytes): its
// ready() must reject with quantvec's explanation, since workerd refuses to compile bytes.
import * as quantvec from "./dist/index.js";

export default {
  async fetch() {
    try {
      await quantvec.ready();
      return Response.json({ rejected: false });
    } catch (error) {
      return Response.json({ rejected: true, message: String(error?.message ?? error), cause: String(error?.cause ?? "") });
    }
  },
};
