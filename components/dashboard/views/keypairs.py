"""The key pairs panel (Horizon's key pairs): list, create, import, delete.

A created key pair's private key is shown once, on the page the create answers
with (a read-only text box and a download link carrying it as a data: URL): it
is never put in the session nor kept anywhere, as the api keeps no copy either.
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import Response

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import Pages, flash, redirect, render
from stratus.api.v1 import api_service_pb2 as api_pb2

pages = Pages()
# What the create form offers (the api's key_type values).
KEY_TYPES = (("ssh-ed25519", "ED25519"), ("ssh-rsa", "RSA (3072 bits)"))


async def _page(request: Request, cloud: Cloud, status_code: int = 200, **forms) -> Response:
    listed = await cloud.every(
        cloud.keypairs.ListKeypairs, api_pb2.ListKeypairsRequest(), "keypairs"
    )
    return render(
        request,
        "keypairs.html",
        status_code,
        title="Key pairs",
        keypairs=listed,
        key_types=KEY_TYPES,
        create=forms.get("create", {"name": "", "key_type": "ssh-ed25519", "error": ""}),
        imported=forms.get("imported", {"name": "", "public_key": "", "error": ""}),
    )


@pages.get("/project/keypairs")
async def keypairs(request: Request, cloud: Cloud) -> Response:
    return await _page(request, cloud)


@pages.post("/project/keypairs/create")
async def create_keypair(request: Request, cloud: Cloud) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()
    key_type = str(form.get("key_type", "")) or "ssh-ed25519"
    try:
        created = await cloud.keypairs.CreateKeypair(
            api_pb2.CreateKeypairRequest(name=name, key_type=key_type)
        )
    except ServiceError as error:
        fields = {"name": name, "key_type": key_type, "error": str(error)}
        return await _page(request, cloud, 400, create=fields)
    # The private key goes into this one page only (never the session).
    encoded = base64.b64encode(created.private_key.encode()).decode()
    return render(
        request,
        "keypairs_created.html",
        title="Key pairs",
        keypair=created.keypair,
        private_key=created.private_key,
        download_url=f"data:application/x-pem-file;base64,{encoded}",
        file_name=f"{created.keypair.name}.pem".replace(" ", "_"),
    )


@pages.post("/project/keypairs/import")
async def import_keypair(request: Request, cloud: Cloud) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()
    public_key = str(form.get("public_key", "")).strip()
    try:
        imported = await cloud.keypairs.ImportKeypair(
            api_pb2.ImportKeypairRequest(name=name, public_key=public_key)
        )
    except ServiceError as error:
        fields = {"name": name, "public_key": public_key, "error": str(error)}
        return await _page(request, cloud, 400, imported=fields)
    flash(request, "success", f"Imported key pair {imported.name} ({imported.fingerprint}).")
    return redirect("/project/keypairs")


@pages.post("/project/keypairs/{name}/delete")
async def delete_keypair(request: Request, cloud: Cloud) -> Response:
    name = request.path_params["name"]
    await cloud.keypairs.DeleteKeypair(api_pb2.DeleteKeypairRequest(name=name))
    flash(request, "success", f"Deleted key pair {name}.")
    return redirect("/project/keypairs")
