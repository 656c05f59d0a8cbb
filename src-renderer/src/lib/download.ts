/**
 * Starts a browser download of a same-origin URL under `fileName`, as a click on an
 * `<a download>` would: the page stays, the token's cookie goes with the request.
 */
export function startDownload(url: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}
