#pragma once
// Keys for the jose tests. The RFC keys are the published examples, written
// as PEM from their JWK members (node's crypto.createPrivateKey({format:
// "jwk"}).export({type: "pkcs8"}), and openssl rsa/ec for the traditional
// forms); the others are throwaway keys made with openssl for the refusals.
#include <string_view>

namespace gatehouse::jose::testing {

// RFC 7515 appendix A.2.1: the RS256 example's 2048-bit RSA key.
inline constexpr std::string_view rfc7515_a2_rsa_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO
jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL
aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn
juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5
ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf
toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg
VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW
PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G
O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj
kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6
XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB
4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K
pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr
0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE
lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6
kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP
rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw
kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp
5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2
9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/
evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG
yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj
OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2
tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3
ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56
03k2+ZQwVK0JKSHuLFkuQ3U=
-----END PRIVATE KEY-----)PEM";

// The same key as "RSA PRIVATE KEY" (PKCS#1).
inline constexpr std::string_view rfc7515_a2_rsa_pkcs1 = R"PEM(-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0
l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pC
gNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSX
ndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uD
Zlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8
q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQABAoIBABKucaRpzQorw35S
bEUAVx8dYXUdZOlJcHtiWQ+dC6V8ljxAHj/PLyzTveyI5QO/xkObCyjIL303l2cf
UhPu2MFaJdjVzqACXuOrLot/eSFvxjvqVidTtAZExqFRJ9mylUVAoLvhowVWmC1O
n95fZCXxTUtxNEG1Xcc7m0rtzJKs45J+N/V9DP1edYH6USyPSWGp6wuA+KgHRnKK
Vf9GRx80JQY7nVNkL17eHoTWEwga+lwi0FEoW9Y7lDtWXYmKBWhUE+U8PGxlJf8f
40493HDw1WRQ/aSLoS4QTp3rn7gYgeHEvfJdkkf0UMhlknlo53M09EFPdadQ4TlU
bjqKc50CgYEA4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH/5IB3jw3bcxGn6QLvnE
tfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw/Py5PJdTJNPY8cQn7ouZ2KKDcmnPG
BY5t7yLc1QlQ5xHdwW1VhvKn+nXqhJTBgIPgtldC+KDV5z+y2XDwGUcCgYEAuQPE
fgmVtjL0Uyyx88GZFF1fOunH3+7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYs
p1ZSe7zFYHj7C6ul7TjeLQeZD/YwD66t62wDmpe/HlB+TnBA+njbglfIsRLtXlnD
zQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdcCgYAHAp9XcCSrn8wVkMVkKdb7
DOX4IKjzdahm+ctDAJN4O/y7OW5FKebvUjdAIt2GuoTZ71iTG+7F0F+lP88jtjP4
U4qe7VHoewl4MKOfXZKTe+YCS1XbNvfgwJ3Ltyl1OH9hWvu2yza7q+d5PCsDzqtm
27kxuvULVeya+TEdAB1ijQKBgQCH/3r6YrVH/uCWGy6bzV1nGNOdjKc9tmkfOJmN
54dxdixdpozCQ6U4OxZrsj3FcOhHBsqAHvX2uuYjagqvo3cOj1TRqNocX40omfCC
Mx3bD1yPPf/6TI2XECva/ggqEY2mYzmIiA5LVVmc5nrybr+lssFKneeyxN2Wq93S
0iJMdQKBgCGHewxzoa1r8ZMD0LETNrToK423K377UCYqXfg5XMclbrjPbEC3YI1Z
NqMtuhdBJqUnBi6tjKMF+34Xf0CUN8ncuXGO2CAYvO8PdyCixHX52ybaDjy1FtCE
6yUXjoKNXKvUm7MWGsAYH6f4IegOetN5NvmUMFStCSkh7ixZLkN1
-----END RSA PRIVATE KEY-----)PEM";

// RFC 7515 appendix A.3.1: the ES256 example's P-256 key.
inline constexpr std::string_view rfc7515_a3_ec_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff
H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp
7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt
-----END PRIVATE KEY-----)PEM";

// The same key as "EC PRIVATE KEY" (SEC 1).
inline constexpr std::string_view rfc7515_a3_ec_sec1 = R"PEM(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEII6bEJ5xkJi/mASH3x9dd+nLKWBuvtImO19XwhPfhPSyoAoGCCqGSM49
AwEHoUQDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEXH8UTNG72b
focs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==
-----END EC PRIVATE KEY-----)PEM";

// Its public half (SPKI).
inline constexpr std::string_view rfc7515_a3_ec_public = R"PEM(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7
6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==
-----END PUBLIC KEY-----)PEM";

// RFC 8037 appendix A.1: the Ed25519 example key.
inline constexpr std::string_view rfc8037_a1_ed25519_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----)PEM";

// openssl genrsa 1024: too short for RS256.
inline constexpr std::string_view rsa_1024_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MIICeAIBADANBgkqhkiG9w0BAQEFAASCAmIwggJeAgEAAoGBAMNPXkn41JW27zv2
87mGBJlWipMZeKJmlwsSXiWX6725pvfm+lWmv4irDLgx6vi+s5F+xzzQWuryZRoA
IdG1mPYyrB19Mx//s4z8kM5nv0ECBOVJv6ZUU6JIf8KNy/APZcZykQtixsbiGvvS
lCl3lrY4KdVnjp80IaiGivEnIxjRAgMBAAECgYEAu5s5jwSd71HRa2BDrSm2sTQX
2ETXQ+gXnmL+XE4Z/Byg7e/I9w09XiIwDZ6lflpwUondB+V778L2qosF8VLmoaeE
r03XJySZC88T38M77TgMzSHFDv8WsjWiauWHrsZTIoANg8AM1UWxuHa9xhw6q5ia
AbwQ4+dJMFiJKeUbwyECQQD1jX6gwyL5T6fzypSJtR2ElJD2dM52vZaiMNXE69jw
6TfB6djiZOv+gytzA8sh3ReIXQVx1NfGyYsFvlJfvlxjAkEAy56kQFG2cjxEpb75
2LjFvz6Ig383wVMWf3panYgBuH0baeT2IXMLD0nff8dL6cdAdWne7skaH+VGtw7I
KuNaOwJBAMjbfQEznaAhsFiTFP2v0P1qKUnwMhKe8mCpYbM62LH3k0xjZK2LsB74
XMowCDEjEOTScmmymO5aXgXMsMTwidECQQDD/THp+vzaneoRg23nTYqBVwZ9U7Ft
8rTABRw9bxEA6+K8HbdPYPVvRNLMoh8OqUwA9+OuAYGU29IiFydSKL3LAkBVibuP
opn7yqKazNxGwiUh8dDe+3aOWBtCX23PWBLeMUJBtAYVtiPODb3a0cvl2tByJb7n
cDV4vC0GOsKAm0d3
-----END PRIVATE KEY-----)PEM";

// openssl ecparam -name secp384r1: not P-256.
inline constexpr std::string_view p384_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBTAWrBw7T19mD0GqmO
yGi7gf99ZzH6w4LOVXRgeVPcW6QbVqApdIfmvG8leJaugMyhZANiAARqBKG5MtRC
37iCDTGMLLZZ+anXDBhIfiwKaDBFCRzOtlR7014fQNW+LtCJO4LH34FUat388qQI
AYy9sEc4LmDQike73mf8LPFgzb/mlwkZ/wGp9Xhy5Q4mDNi/XkT/JAM=
-----END PRIVATE KEY-----)PEM";

// openssl genpkey -algorithm ed448: not Ed25519.
inline constexpr std::string_view ed448_pkcs8 = R"PEM(-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOR85NGILdCMil3gQmoqwtAXDftBmFgMcu4IZTcNiFacR
67CS2CGdMXQxpSsw+p0oB6VsKbGYlyWG8A==
-----END PRIVATE KEY-----)PEM";

// openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:x of a fresh Ed25519 key.
inline constexpr std::string_view encrypted_ed25519_pkcs8 = R"PEM(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgM6u4BPDZeawICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEBTKP+yZh6f881ce19lV69QEQNpb
bTz8dnXadkNd2qsZsuuiCj2uviAQSt5Z2OXuFo+uguABuy4NYqmqRV+yN7kV1p+4
ge0aW1WJeNz5UA7U0Ns=
-----END ENCRYPTED PRIVATE KEY-----)PEM";

}  // namespace gatehouse::jose::testing
