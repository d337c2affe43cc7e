#include <vector>

#include "reference.h"

namespace imgproc::reference {

void RunJob(const ImageView& source, const JobPlan& plan, const JobOutputs& outputs) {
  const int c = plan.channels;
  std::vector<uint8_t> thumbScratch;
  const uint8_t* thumb = nullptr;
  if (plan.thumbImage) {
    uint8_t* dst = outputs.thumb;
    if (!plan.returnThumb) {
      thumbScratch.resize(ImageBytes(plan.thumbImage->out, c));
      dst = thumbScratch.data();
    }
    Resize(source.data, *plan.thumbImage, c, dst);
    thumb = dst;
  }
  if (plan.blur) Blur(thumb, *plan.blur, c, outputs.blur);
  if (plan.lq) Resize(source.data, *plan.lq, c, outputs.lq);
  if (plan.sample) Resize(plan.sampleFromThumb ? thumb : source.data, *plan.sample, c, outputs.sample);
  for (size_t i = 0; i < plan.widths.size(); ++i) Resize(source.data, plan.widths[i], c, outputs.widths[i]);
}

}  // namespace imgproc::reference
