import type { ExportFormat } from '$contract/messages';

/** One line per format on where the exported file loads, as the README shows it in full. */
export function loadHint(format: ExportFormat, fileName: string): string {
  switch (format) {
    case 'tfjs':
      return `TensorFlow.js: unzip it, serve the folder over HTTP, then tf.loadLayersModel('http://…/model.json').`;
    case 'keras':
      return `Keras 3 (Python): keras.saving.load_model("${fileName}").`;
    case 'onnx':
      return `onnxruntime: InferenceSession("${fileName}"); input "image" [N, 28, 28, 1] in [0, 1], output "probabilities" [N, 10].`;
  }
}
