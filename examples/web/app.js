// The example page's logic: upload, list, download and delete files through
// the worker bundle (served at /web/ by serve.mjs, or wherever you host build/web).
import { CloudKit } from "/web/cloudkit.js";

const BUCKET = "files";
const $ = (id) => document.getElementById(id);
const say = (text, error = false) => { $("status").textContent = text; $("status").className = error ? "error" : ""; };

const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "local", options: { path: "example" } }] });
if (!(await ck.storage.bucketExists(BUCKET))) await ck.storage.createBucket(BUCKET);

async function refresh() {
  const rows = [];
  let token = "";
  do {
    const page = await ck.storage.listObjects(BUCKET, { continuationToken: token });
    for (const object of page.objects) {
      const row = document.createElement("tr");
      row.innerHTML = `<td></td><td>${Number(object.size).toLocaleString()} B</td>
        <td>${new Date(Number(object.lastModifiedMs)).toLocaleString()}</td>
        <td><button data-op="download">Download</button> <button data-op="delete">Delete</button></td>`;
      row.firstElementChild.textContent = object.key;
      row.dataset.key = object.key;
      rows.push(row);
    }
    token = page.nextContinuationToken;
  } while (token);
  $("list").replaceChildren(...rows);
}

$("upload").onclick = async () => {
  try {
    for (const file of $("files").files) {
      say(`uploading ${file.name}…`);
      await ck.storage.putObject(BUCKET, file.name, file, { contentType: file.type });
    }
    say("uploaded");
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
};

$("list").onclick = async (event) => {
  const op = event.target.dataset.op;
  const key = event.target.closest("tr")?.dataset.key;
  if (!op || !key) return;
  try {
    if (op === "download") {
      const object = await ck.storage.getObject(BUCKET, key);
      const url = URL.createObjectURL(await object.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: key });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(`downloaded ${key}`);
    } else {
      await ck.storage.deleteObject(BUCKET, key);
      say(`deleted ${key}`);
      await refresh();
    }
  } catch (error) {
    say(error.message, true);
  }
};

await refresh();
say("ready");
window.cloudkit = ck;  // for the console, and the example's test
